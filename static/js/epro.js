/* Patient questionnaires: the VAS slider that starts with no value, and the count of answered items.
   Plain JavaScript, no library. Without it the page still works: the VAS is a number box. */
(function () {
  "use strict";

  // A range input always has a value (its middle by default). The answer lives in the number field instead,
  // empty until the patient touches the line; the slider shows no thumb until then.
  function setUpVas(box) {
    var slider = box.querySelector("[data-vas-slider]");
    var field = box.querySelector("[data-vas-value]");
    var numberBox = box.querySelector("[data-vas-number]");
    var readout = box.querySelector("[data-vas-readout]");
    if (!slider || !field) return;
    var unsetText = box.getAttribute("data-unset-text") || "";
    var unit = box.getAttribute("data-unit") || "mm";

    function show(value) {
      var unset = value === "";
      slider.classList.toggle("is-unset", unset);
      readout.classList.toggle("is-unset", unset);
      readout.textContent = unset ? unsetText : value + " " + unit;
      slider.setAttribute("aria-valuetext", unset ? unsetText : value + " " + unit);
    }
    function take() {
      field.value = slider.value;
      show(field.value);
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }

    var typed = field.value.trim();
    var valid = /^\d{1,3}$/.test(typed) && Number(typed) <= Number(slider.max);
    if (!valid && typed !== "") return; // a typed value the server refused: leave the number box to fix it
    slider.hidden = false;
    numberBox.hidden = true;
    field.type = "hidden";
    if (valid) slider.value = typed;
    show(valid ? typed : "");
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
        var vas = item.querySelector("[data-vas-value]");
        if (vas ? vas.value.trim() !== "" : item.querySelector("input:checked")) answered += 1;
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
