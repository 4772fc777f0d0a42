/* CRF form page: repeating rows, conditional fields, and a guard against acting on unsaved changes.
 *
 * Without JavaScript the page still works: the server draws a few blank rows (empty ones are not saved),
 * shows every conditional field (it refuses values a condition hides, with a message on the field), and
 * the life-cycle buttons act on the saved form.
 */
(function () {
  "use strict";

  var TEMPLATE_INDEX = /__prefix__/g;
  var RENAMED = ["name", "id", "for", "form", "aria-describedby", "data-show-if", "data-row"];

  function each(list, fn) {
    Array.prototype.forEach.call(list, fn);
  }

  function inputsOf(form, name) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name === name;
    });
  }

  // --- conditional fields (show_if) -----------------------------------------------------------------

  function conditionHolds(form, name, wanted) {
    return inputsOf(form, name).some(function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        return el.checked && el.value === wanted;
      }
      return el.value === wanted;
    });
  }

  function ownInputs(wrapper, form) {
    return Array.prototype.filter.call(wrapper.querySelectorAll("input, select, textarea"), function (el) {
      return el.form === form; // not the query textareas beside the field, which belong to their own forms
    });
  }

  function applyConditions(form) {
    each(form.querySelectorAll("[data-show-if]"), function (wrapper) {
      if (wrapper.closest("template")) {
        return;
      }
      var shown = conditionHolds(form, wrapper.getAttribute("data-show-if"), wrapper.getAttribute("data-show-value"));
      wrapper.hidden = !shown;
      // A hidden field is not sent (disabled), so it is saved empty, as the server requires.
      ownInputs(wrapper, form).forEach(function (el) {
        el.disabled = !shown;
      });
    });
  }

  function clearHidden(form) {
    each(form.querySelectorAll("[data-show-if][hidden]"), function (wrapper) {
      ownInputs(wrapper, form).forEach(function (el) {
        if (el.type === "radio") {
          el.checked = el.value === "";
        } else if (el.type === "checkbox") {
          el.checked = false;
        } else {
          el.value = "";
        }
      });
    });
  }

  // --- repeating groups --------------------------------------------------------------------------------

  function initGroup(section, form, onChange) {
    var list = section.querySelector("[data-rows]");
    var template = section.querySelector("template[data-row-template]");
    var add = section.querySelector("[data-add-row]");
    var limit = section.querySelector("[data-role=row-limit]");
    if (!list || !template || !add) {
      return;
    }
    var max = parseInt(section.getAttribute("data-max-rows"), 10) || 50;
    var next = parseInt(section.getAttribute("data-next-index"), 10) || 0;

    function rows() {
      return Array.prototype.slice.call(list.querySelectorAll(":scope > [data-row]"));
    }

    function refresh() {
      var all = rows();
      all.forEach(function (row, i) {
        var number = row.querySelector("[data-row-number]");
        if (number) {
          number.textContent = String(i + 1);
        }
        var remove = row.querySelector("[data-remove-row]");
        if (remove) {
          remove.hidden = false;
        }
      });
      add.disabled = all.length >= max;
      if (limit) {
        limit.hidden = all.length < max;
      }
    }

    function addRow() {
      if (rows().length >= max) {
        return null;
      }
      var index = String(next++);
      var fragment = template.content.cloneNode(true);
      each(fragment.querySelectorAll("*"), function (el) {
        RENAMED.forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value && value.indexOf("__prefix__") >= 0) {
            el.setAttribute(attr, value.replace(TEMPLATE_INDEX, index));
          }
        });
      });
      var row = fragment.querySelector("[data-row]");
      list.appendChild(fragment);
      return row;
    }

    // The blank rows drawn for browsers without JavaScript give way to the button; one stays if none is filled.
    var blanks = list.querySelectorAll(":scope > [data-row][data-blank]");
    var filled = rows().length - blanks.length;
    each(blanks, function (row, i) {
      if (filled > 0 || i > 0) {
        row.remove();
      }
    });
    each(list.querySelectorAll(":scope > p.muted"), function (p) {
      p.remove();
    });

    add.hidden = false;
    add.addEventListener("click", function () {
      var row = addRow();
      refresh();
      onChange();
      if (row) {
        var first = row.querySelector("input:not([type=hidden]), select, textarea");
        if (first) {
          first.focus();
        }
      }
    });
    list.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-row]");
      if (!button) {
        return;
      }
      var row = button.closest("[data-row]");
      if (row) {
        row.remove();
        form.setAttribute("data-dirty", "true");
        refresh();
        add.focus();
      }
    });
    refresh();
  }

  // --- unsaved changes and the life-cycle buttons -----------------------------------------------------

  function guardSteps(form) {
    var note = document.querySelector("[data-role=dirty-note]");
    each(document.querySelectorAll("form[data-needs-saved]"), function (step) {
      step.addEventListener("submit", function (event) {
        if (form.getAttribute("data-dirty") === "true") {
          event.preventDefault();
          if (note) {
            note.hidden = false;
            note.scrollIntoView({ block: "nearest" });
          }
        }
      });
    });
  }

  function init(form) {
    function changed() {
      applyConditions(form);
    }
    each(document.querySelectorAll("[data-group]"), function (section) {
      initGroup(section, form, changed);
    });
    form.addEventListener("change", function (event) {
      if (event.target.form === form) {
        form.setAttribute("data-dirty", "true");
      }
      changed();
    });
    form.addEventListener("input", function (event) {
      if (event.target.form === form) {
        form.setAttribute("data-dirty", "true");
      }
    });
    form.addEventListener("submit", function () {
      clearHidden(form);
    });
    guardSteps(form);
    changed();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("crf-entry");
    if (form) {
      init(form);
    }
  });
})();
