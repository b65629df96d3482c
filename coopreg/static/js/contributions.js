// Contributions pages: the print button, and the collection sheet's running count and total
// (the treasurer compares them with the money counted before typing the control figures).
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  // a link that shows another month's page follows the month typed in its field
  // (data-follow-month="FIELD ID"); without script it keeps the month the page showed
  document.querySelectorAll("a[data-follow-month]").forEach(function (link) {
    var field = document.getElementById(link.getAttribute("data-follow-month"));
    if (!field) { return; }
    field.addEventListener("input", function () {
      var url = new URL(link.href, window.location.href);
      url.searchParams.set("period", field.value.trim());
      link.href = url.toString();
    });
  });
  var sheet = document.querySelector("form.collection-sheet");
  if (!sheet) { return; }
  var count = document.getElementById("sheet-count");
  var total = document.getElementById("sheet-total");
  function cents(text) {
    var t = (text || "").trim().replace(",", ".");
    if (!/^\d+(\.\d{1,2})?$/.test(t)) { return null; }
    var parts = t.split(".");
    var fraction = ((parts[1] || "") + "00").slice(0, 2);
    return parseInt(parts[0], 10) * 100 + parseInt(fraction, 10);
  }
  function update() {
    var n = 0, sum = 0;
    sheet.querySelectorAll("input.sheet-amount").forEach(function (input) {
      var value = cents(input.value);
      if (value) { n += 1; sum += value; }
    });
    count.textContent = String(n);
    // whole cents only: no floating point anywhere near money
    total.textContent = Math.floor(sum / 100) + "." + String(100 + (sum % 100)).slice(1);
  }
  sheet.addEventListener("input", update);
  update();
})();
