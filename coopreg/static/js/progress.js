// Polls a job's status and moves its progress bar; reloads the page when the job ends, so
// the result shows. Served by the app itself (no CDN); no inline script (the CSP forbids it).
(function () {
  "use strict";
  function watch(box) {
    var url = box.getAttribute("data-job-status-url");
    var bar = box.querySelector("progress");
    var percent = box.querySelector(".job-percent");
    var message = box.querySelector(".job-message");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (s) {
          if (s.total) { bar.max = s.total; bar.value = s.done; }
          percent.textContent = s.percent_text;  // said by the server, in the page's language
          message.textContent = s.message || "";
          if (s.finished) { window.location.reload(); } else { setTimeout(tick, 1000); }
        })
        .catch(function () { setTimeout(tick, 3000); });
    }
    setTimeout(tick, 500);
  }
  document.querySelectorAll(".job-progress[data-finished='no']").forEach(watch);
})();
