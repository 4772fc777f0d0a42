/* The exports form offers only the options that apply to the chosen format: the dataset for the tabular
 * formats, the byte-order mark for CSV and REDCap (the form's data-tabular and data-bom name them). A
 * disabled option is not sent, so the server uses its default. Without JavaScript every option stays
 * open and the server refuses one that does not apply, with a message beside it.
 */
(function () {
  "use strict";

  function init(form) {
    var tabular = (form.getAttribute("data-tabular") || "").split(" ");
    var bomFormats = (form.getAttribute("data-bom") || "").split(" ");
    var dataset = form.querySelector("[data-role=dataset]");
    var bom = form.querySelector("#id_bom");

    function update() {
      var chosen = form.querySelector("input[name=format]:checked");
      var format = chosen ? chosen.value : "";
      if (dataset) {
        dataset.disabled = format !== "" && tabular.indexOf(format) < 0;
      }
      if (bom) {
        bom.disabled = format !== "" && bomFormats.indexOf(format) < 0;
      }
    }

    form.addEventListener("change", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.export-request");
    if (form) {
      init(form);
    }
  });
})();
