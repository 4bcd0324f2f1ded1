// A long job's page: asks for its status every second and moves the bar; once the job ends, the
// page is loaded again to show the result. Without this script, the page's link refreshes it.
(function () {
  "use strict";
  var box = document.querySelector("[data-job-status]");
  if (!box || box.getAttribute("data-finished") === "true") { return; }
  var bar = box.querySelector("[data-job-progress]");
  var counts = box.querySelector("[data-job-counts]");
  var wording = box.getAttribute("data-counts-wording") || "";
  var spoken = 0;

  function poll() {
    fetch(box.getAttribute("data-job-status"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (!status) { return setTimeout(poll, 3000); }
        if (status.finished || status.stale) { return location.reload(); }
        if (status.total) {
          bar.max = status.total;
          bar.value = status.done;
          // Said to screen readers at most every 10 seconds (the live region would chatter otherwise).
          if (Date.now() - spoken > 10000) {
            counts.textContent = wording.replace("{done}", status.done).replace("{total}", status.total) +
              (status.estimate_seconds !== null ? box.getAttribute("data-estimate-wording")
                .replace("{n}", status.estimate_seconds) : "");
            spoken = Date.now();
          }
        }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
