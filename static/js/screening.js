/* Live eligibility verdict for the screening form.
 *
 * As the coordinator answers, the form's data is posted (debounced) to the eligibility endpoint, which
 * judges it without saving; the verdict panel and each criterion row are updated from the answer.
 * Without JavaScript the form still works: the server judges the screening when it is saved.
 * Every label comes from data-label-* attributes rendered by the template, so the page's language applies.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 250;

  function init(form) {
    var url = form.getAttribute("data-eligibility-url");
    var panel = document.getElementById("verdict");
    if (!url || !panel || !window.fetch || !window.FormData) {
      return;
    }
    var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
    var rows = Array.prototype.slice.call(form.querySelectorAll("[data-criterion]"));
    var outcomeEl = panel.querySelector("[data-role=outcome]");
    var failedEl = panel.querySelector("[data-role=failed]");
    var missingEl = panel.querySelector("[data-role=missing]");
    var errorsEl = panel.querySelector("[data-role=errors]");
    var timer = null;
    var sequence = 0;

    function label(name) {
      return panel.getAttribute("data-label-" + name) || name;
    }

    function criterionText(code) {
      var row = form.querySelector('[data-criterion][data-code="' + code + '"] .criterion-text');
      return row ? row.textContent : "";
    }

    function payload() {
      var data = new FormData(form);
      var body = { site: data.get("site") || form.getAttribute("data-site") || "", answers: {} };
      var date = data.get("screening_date");
      if (date) {
        body.screening_date = date;
      }
      var age = String(data.get("age") || "").trim();
      if (/^\d{1,3}$/.test(age)) {
        body.age = parseInt(age, 10);
      }
      var sex = data.get("sex");
      if (sex) {
        body.sex = sex;
      }
      body.fracture_levels = data.getAll("fracture_levels");
      rows.forEach(function (row) {
        if (!row.hasAttribute("data-asked")) {
          return;
        }
        var code = row.getAttribute("data-code");
        var value = data.get("answer_" + code);
        body.answers[code] = value === "yes" ? true : value === "no" ? false : null;
      });
      return body;
    }

    function fillList(container, codes) {
      var list = container.querySelector("ul");
      list.textContent = "";
      codes.forEach(function (code) {
        var item = document.createElement("li");
        var codeEl = document.createElement("span");
        codeEl.className = "code";
        codeEl.textContent = code;
        item.appendChild(codeEl);
        item.appendChild(document.createTextNode(" " + criterionText(code)));
        list.appendChild(item);
      });
      container.hidden = codes.length === 0;
    }

    function setRowStates(failed, missing) {
      rows.forEach(function (row) {
        var code = row.getAttribute("data-code");
        var state = failed.indexOf(code) >= 0 ? "fail" : missing.indexOf(code) >= 0 ? "unknown" : "pass";
        row.setAttribute("data-state", state);
        var stateEl = row.querySelector("[data-role=state]");
        if (stateEl) {
          stateEl.textContent = label(state);
        }
      });
    }

    function showVerdict(verdict) {
      panel.setAttribute("data-outcome", verdict.outcome);
      panel.removeAttribute("aria-busy");
      outcomeEl.textContent = label(verdict.outcome);
      fillList(failedEl, verdict.failed_criteria || []);
      fillList(missingEl, verdict.missing_criteria || []);
      errorsEl.hidden = true;
      setRowStates(verdict.failed_criteria || [], verdict.missing_criteria || []);
    }

    function fieldLabel(name) {
      var el = form.querySelector('label[for="id_' + name + '"], #id_' + name + " legend");
      return el ? el.textContent.replace("*", "").trim() : "";
    }

    function messagesOf(payload) {
      var messages = [];
      Object.keys(payload || {}).forEach(function (key) {
        if (key === "code") {
          return;
        }
        var value = payload[key];
        var prefix = key === "detail" || key === "non_field_errors" ? "" : fieldLabel(key);
        (Array.isArray(value) ? value : [value]).forEach(function (message) {
          if (typeof message === "string") {
            messages.push(prefix ? prefix + ": " + message : message);
          }
        });
      });
      return messages;
    }

    function showProblem(messages) {
      panel.setAttribute("data-outcome", "error");
      panel.removeAttribute("aria-busy");
      outcomeEl.textContent = label(messages.length ? "error" : "unavailable");
      failedEl.hidden = true;
      missingEl.hidden = true;
      var list = errorsEl.querySelector("ul");
      list.textContent = "";
      messages.forEach(function (message) {
        var item = document.createElement("li");
        item.textContent = message;
        list.appendChild(item);
      });
      errorsEl.hidden = messages.length === 0;
    }

    function check() {
      var mine = ++sequence;
      var body = payload();
      if (!body.site) {
        showProblem([label("nosite")]);
        return;
      }
      panel.setAttribute("aria-busy", "true");
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrf ? csrf.value : "",
        },
        body: JSON.stringify(body),
      })
        .then(function (response) {
          return response.json().then(
            function (json) {
              return { ok: response.ok, status: response.status, json: json };
            },
            function () {
              return { ok: false, status: response.status, json: null };
            }
          );
        })
        .then(function (result) {
          if (mine !== sequence) {
            return; // a newer check is on its way
          }
          if (result.ok) {
            showVerdict(result.json);
          } else {
            showProblem(result.status === 400 ? messagesOf(result.json) : []);
          }
        })
        .catch(function () {
          if (mine === sequence) {
            showProblem([]);
          }
        });
    }

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(check, DEBOUNCE_MS);
    }

    form.addEventListener("change", schedule);
    form.addEventListener("input", function (event) {
      if (event.target && (event.target.name === "age" || event.target.name === "screening_date")) {
        schedule();
      }
    });
    check();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-eligibility-url]");
    Array.prototype.forEach.call(forms, init);
  });
})();
