/* Inside the embedded comment section (/embed/<key>): tell the page framing it how tall the
   section is, so that static/embed.js sizes the frame to it. Only to the parent origin the service
   was given and found allowed (body[data-parent-origin]), and only the height: nothing of the
   reader's (their state, their comments in review) leaves the frame. */
(function () {
  "use strict";
  var parentOrigin = document.body.getAttribute("data-parent-origin");
  if (!parentOrigin || window.parent === window) {
    return;
  }
  var sent = -1;

  function send() {
    // The content's own height (not the viewport's, which is the frame's current height).
    var height = Math.ceil(document.body.getBoundingClientRect().height +
      parseFloat(window.getComputedStyle(document.body).marginTop || "0") +
      parseFloat(window.getComputedStyle(document.body).marginBottom || "0"));
    if (height !== sent) {
      sent = height;
      window.parent.postMessage({ type: "moderation-embed:height", height: height }, parentOrigin);
    }
  }

  if (window.ResizeObserver) {
    new ResizeObserver(send).observe(document.body);
  }
  window.addEventListener("load", send);
  send();
})();
