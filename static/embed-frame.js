/* Inside the embedded comment section (/embed/<key>): tell the page framing it how tall the
   section is, so that static/embed.js sizes the frame to it. Only to the parent origin the service
   was given and found allowed (body[data-parent-origin]), and only the height: nothing of the
   reader's (their state, their comments in review) leaves the frame. */
(function () {
  "use strict";
  // The language switch on the frame's shared page is a link, and followed it emptied the form. With
  // something typed, it sends the form instead, as the form page's own switch does (the frame may keep
  // no storage when the browser blocks third-party cookies): the form page comes back in the other
  // language with the draft.
  var form = document.querySelector("[data-comment-form]");
  if (form) {
    document.querySelectorAll(".language-switch a[lang]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var typed = ["nickname", "body"].some(function (name) {
          var field = form.elements[name];
          return field && field.value.trim() !== "";
        });
        if (!typed) return;
        event.preventDefault();
        var choice = document.createElement("input");
        choice.type = "hidden";
        choice.name = "switch_language";
        choice.value = link.getAttribute("lang");
        form.appendChild(choice);
        form.noValidate = true;
        form.submit();
      });
    });
  }

  // The frame has no reader.js: a like or a report posts and the frame comes back at its top. The
  // focus goes back where the reader was: to what says what happened (a report's notice), else to the
  // like button of the comment the URL names (the like's way back, #comment-N).
  // After the load: going to the URL's #comment-N moves the focus to the page first.
  // A reply's form page (回覆, #comment-form) puts the focus in the text box, which says whom it answers.
  var focused = null;
  window.addEventListener("load", function () {
    var said = document.querySelector("[data-focus-on-load]");
    var named = /^#comment-\d+$/.test(location.hash) && document.querySelector(location.hash + " [data-like] button");
    var box = location.hash === "#comment-form" && document.querySelector("#comment-form textarea[name=body]");
    focused = said || named || box || null;
    if (focused) focused.focus({ preventScroll: true });
  });

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

  // Where the focus went after a post (a report's notice, a like's button, a reply's text box), for the
  // page around to bring into view: the frame is as tall as its content, so only that page can scroll
  // to it, and only once the frame has its new height (the message comes after the height's).
  function show() {
    if (!focused) return;
    var box = focused.closest("[role=status], .notice, .comment, form") || focused;
    window.parent.postMessage({ type: "moderation-embed:show",
                                top: Math.max(0, Math.floor(box.getBoundingClientRect().top + window.scrollY)) },
                              parentOrigin);
  }

  if (window.ResizeObserver) {
    new ResizeObserver(send).observe(document.body);
  }
  window.addEventListener("load", function () { send(); show(); });
  send();
})();
