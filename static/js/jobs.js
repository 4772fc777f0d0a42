/* A job's page follows the job: every 2 s it reads the job from the API (the session's own, same origin)
 * and shows its status, step, progress, error and download link, until the job is done or has failed.
 * Without JavaScript the page shows the state it was drawn with; a reload shows the next one.
 * Texts (status, step, error) come translated from the API in the page's language.
 */
(function () {
  "use strict";

  var EVERY_MS = 2000;

  function init(card) {
    var url = card.getAttribute("data-status-url");
    if (!url || !window.fetch || card.getAttribute("data-finished") === "1") {
      return;
    }
    var status = card.querySelector("[data-role=status]");
    var step = card.querySelector("[data-role=step]");
    var bar = card.querySelector("[data-role=bar]");
    var count = card.querySelector("[data-role=count]");
    var error = card.querySelector("[data-role=error]");
    var download = card.querySelector("[data-role=download]");
    var file = card.querySelector("[data-role=file]");
    var countText = count ? count.textContent : "";

    function show(job) {
      status.textContent = job.status_text.charAt(0).toUpperCase() + job.status_text.slice(1);
      status.className = "job-state job-state-" + job.status;
      step.textContent = job.status === "running" ? job.step_text : "";
      var total = job.steps_total || 0;
      var done = job.status === "done" ? total : job.steps_done || 0;
      bar.setAttribute("aria-valuemax", String(total));
      bar.setAttribute("aria-valuenow", String(done));
      bar.firstElementChild.style.width = (total ? Math.round((100 * done) / total) : 0) + "%";
      if (count) {
        // The template's "N of M steps", its numbers replaced: the sentence stays in the page's language.
        var numbers = 0;
        count.textContent = countText.replace(/\d+/g, function () {
          numbers += 1;
          return String(numbers === 1 ? done : total);
        });
      }
      error.textContent = job.error || "";
      error.hidden = !job.error;
      download.hidden = job.status !== "done";
      if (job.status === "done" && file) {
        file.textContent = job.file_name;
      }
      return job.status === "done" || job.status === "failed";
    }

    function poll() {
      window
        .fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.ok) {
            return response.json();
          }
          // Signed out, or no longer allowed: asking again will not change that; a reload shows why.
          // A server error or a network blip is tried again.
          return response.status >= 400 && response.status < 500 ? "stop" : null;
        })
        .then(function (job) {
          if (job === "stop") {
            return;
          }
          if (!job || !show(job)) {
            window.setTimeout(poll, EVERY_MS);
          }
        })
        .catch(function () {
          window.setTimeout(poll, EVERY_MS); // a network blip: try again
        });
    }

    window.setTimeout(poll, EVERY_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var card = document.getElementById("job");
    if (card) {
      init(card);
    }
  });
})();
