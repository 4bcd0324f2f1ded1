/* Comment counts on a newsroom's list pages, from the comment service; no dependencies.

   <span data-comment-count="story-1001"></span>
   <span data-comment-count="story-1002" data-comment-count-template="{n} 則評論"></span>
   <span data-comment-count="story-1003" data-comment-count-template="{n} comments"
         data-comment-count-one="1 comment" data-comment-count-zero="Be the first to comment"></span>
   <script src="https://comments.example.com/static/count.js" async></script>

   Every element with data-comment-count gets the published comment count of that article key,
   asked for in one request per 100 keys (GET /api/v1/counts, public and cached briefly), written
   into the template ({n} wherever it stands), or the -zero or -one text for 0 and 1 when given. The
   service is the origin this script came from. Keys the service does not know keep their text.
   After adding elements to the page, call window.commentCounts.refresh(). */
(function () {
  "use strict";
  var BATCH = 100;
  var script = document.currentScript;
  var base = script && script.src ? new URL(script.src).origin : "";

  function elements() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-comment-count]"));
  }

  function show(element, count) {
    var template = element.getAttribute("data-comment-count-template");
    var exact = { 0: "data-comment-count-zero", 1: "data-comment-count-one" }[count];
    if (exact && element.hasAttribute(exact)) { template = element.getAttribute(exact); }
    element.textContent = template ? template.split("{n}").join(String(count)) : String(count);
    element.setAttribute("data-comment-count-loaded", "");
  }

  function fetchBatch(keys, found) {
    var url = base + "/api/v1/counts?keys=" + keys.map(encodeURIComponent).join(",");
    return fetch(url, { credentials: "omit", mode: "cors" })
      .then(function (response) { return response.ok ? response.json() : { counts: {} }; })
      .then(function (body) {
        var counts = body.counts || {};
        Object.keys(counts).forEach(function (key) { found[key] = counts[key]; });
      })
      .catch(function () { /* the list page works without counts */ });
  }

  function refresh() {
    var all = elements();
    var unique = {};
    all.forEach(function (element) {
      var key = element.getAttribute("data-comment-count");
      // Keys with commas or spaces cannot be article keys (the service refuses to make them).
      if (key && !/[,\s]/.test(key)) { unique[key] = true; }
    });
    var keys = Object.keys(unique).sort(); // sorted: the same list is the same URL, for caches
    var found = {};
    var batches = [];
    for (var start = 0; start < keys.length; start += BATCH) {
      batches.push(fetchBatch(keys.slice(start, start + BATCH), found));
    }
    return Promise.all(batches).then(function () {
      all.forEach(function (element) {
        var key = element.getAttribute("data-comment-count");
        if (Object.prototype.hasOwnProperty.call(found, key)) { show(element, found[key]); }
      });
    });
  }

  window.commentCounts = { refresh: refresh };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", refresh);
  } else {
    refresh();
  }
})();
