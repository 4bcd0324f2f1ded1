/* The comment section of one article in a newsroom's page, from the comment service; no dependencies.

   <script src="https://comments.example.com/static/embed.js" data-article="story-1001"
           data-lang="zh-Hant"></script>

   Inserts an <iframe> of https://comments.example.com/embed/story-1001 after the script (the page's
   origin goes along, so that the frame can tell it its height) and sets the frame's height from its
   messages. Only messages from the service's origin and from this frame's own window are heard, and
   they carry a height, or a place in the frame to bring into view after a post (a report's notice),
   nothing else. data-lang (zh-Hant, zh-Hans or en) picks the frame's language;
   without it the reader's browser does; data-language-switch="off" leaves the frame's language
   switch out (a site that serves one language). data-title names the frame for screen readers.
   The site's origin must be allowed by the service's admin (frame-ancestors), or the browser
   refuses to show the frame. */
(function () {
  "use strict";
  var MESSAGE = "moderation-embed:height";
  var SHOW = "moderation-embed:show";
  var MAX_HEIGHT = 100000;
  var TITLES = { "zh-hant": "網友評論", "zh-hans": "网友评论", en: "Comments" };
  var TAGS = { "zh-hant": "zh-Hant", "zh-hans": "zh-Hans", en: "en" };  // the title's `lang`
  var script = document.currentScript;
  if (!script || !script.src || !script.getAttribute("data-article")) {
    return;
  }
  var service = new URL(script.src).origin;
  var url = new URL("/embed/" + encodeURIComponent(script.getAttribute("data-article")), service);
  var lang = (script.getAttribute("data-lang") || "").toLowerCase();
  if (lang) {
    url.searchParams.set("lang", lang);
  }
  url.searchParams.set("origin", window.location.origin);
  if (script.getAttribute("data-language-switch") === "off") {
    url.searchParams.set("switch", "off");  // the site fixes the language (data-lang): no switch in the frame
  }

  var frame = document.createElement("iframe");
  frame.src = url.href;
  // The title is read in the host page: without data-lang, in the host page's language.
  var hostLang = (document.documentElement.lang || "").toLowerCase();
  var titleLang = TITLES[lang] ? lang : hostLang.indexOf("en") === 0 ? "en"
    : /^zh-(hans|cn|sg|my)/.test(hostLang) ? "zh-hans" : "zh-hant";
  frame.title = script.getAttribute("data-title") || TITLES[titleLang];
  if (!script.getAttribute("data-title")) frame.lang = TAGS[titleLang];
  frame.setAttribute("data-comment-embed", "");
  frame.style.width = "100%";
  frame.style.border = "0";
  frame.style.display = "block";
  frame.style.minHeight = "20rem";
  script.parentNode.insertBefore(frame, script.nextSibling);

  window.addEventListener("message", function (event) {
    if (event.origin !== service || event.source !== frame.contentWindow) {
      return;
    }
    var data = event.data;
    if (data && data.type === SHOW && typeof data.top === "number" && data.top >= 0 && data.top < MAX_HEIGHT) {
      var place = frame.getBoundingClientRect().top + data.top;
      if (place < 0 || place > window.innerHeight - 80) {  // out of sight: a third of the way down
        window.scrollTo({ top: window.scrollY + place - window.innerHeight / 3 });
      }
      return;
    }
    if (!data || data.type !== MESSAGE || typeof data.height !== "number") {
      return;
    }
    var height = Math.ceil(data.height);
    if (height > 0 && height < MAX_HEIGHT) {
      frame.style.minHeight = "0";
      frame.style.height = height + "px";
      frame.setAttribute("data-comment-embed-height", String(height));
    }
  });
})();
