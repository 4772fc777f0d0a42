/* Patient questionnaires: the VAS line that starts with no mark and shows no number, and the count of answered
   items. Plain JavaScript, no library. Without it the page still works: the patient drags the line and ticks
   "My mark on the line is placed". */
(function () {
  "use strict";

  // A range input always has a value (its middle by default), so the line's value counts only once the
  // "placed" box is ticked: here at the first touch, the box hidden. No number is ever shown or read out
  // (a number beside the line biases the mark): the screen reader hears "no mark yet" or "mark placed".
  function setUpVas(box) {
    var slider = box.querySelector("[data-vas-slider]");
    var marked = box.querySelector("[data-vas-marked]");
    var confirm = box.querySelector("[data-vas-confirm]");
    var status = box.querySelector("[data-vas-status]");
    if (!slider || !marked || slider.disabled) return;

    function show() {
      var placed = marked.checked;
      slider.classList.toggle("is-unset", !placed);
      slider.setAttribute("aria-valuetext", box.getAttribute(placed ? "data-value-set" : "data-value-unset"));
      status.textContent = box.getAttribute(placed ? "data-set-text" : "data-unset-text");
    }
    function take() {
      if (!marked.checked) {
        marked.checked = true;
        marked.dispatchEvent(new Event("change", { bubbles: true }));
      }
      show();
    }

    if (confirm) confirm.hidden = true;
    if (status) status.hidden = false;
    show();
    slider.addEventListener("input", take);
    slider.addEventListener("change", take);
    // A tap exactly on the (invisible) thumb's spot changes nothing, so no input event: take it anyway.
    slider.addEventListener("pointerup", take);
    slider.addEventListener("keyup", function (event) {
      if (/^(Arrow|Page|Home|End)/.test(event.key)) take();
    });
  }

  function setUpProgress(form) {
    var counter = document.querySelector("[data-progress]");
    if (!counter) return;
    var template = counter.getAttribute("data-template");
    var items = form.querySelectorAll("[data-item], [data-vas]");
    function update() {
      var answered = 0;
      items.forEach(function (item) {
        if (item.querySelector("input:checked")) answered += 1; // a statement, or the VAS's "placed" box
      });
      counter.textContent = template.replace("__n__", answered).replace("__total__", items.length);
    }
    form.addEventListener("change", update);
    update();
  }

  document.querySelectorAll("[data-vas]").forEach(setUpVas);
  var form = document.getElementById("epro-form");
  if (form) setUpProgress(form);
})();
