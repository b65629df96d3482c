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
  // an amount as the server reads it (coopreg.core.money.parse_amount): 6.268.125,00,
  // 6 268 125,00, 6,268,125.00 or 6268125.00; ambiguous 1.234 counts as nothing
  function cents(text) {
    var t = (text || "").trim().replace(/[\s\u00a0\u202f\u2009]/g, " ");
    if (!/^[0-9][0-9., ]*$/.test(t)) { return null; }
    var marks = t.replace(/[^.,]/g, ""), decimal = null;
    if (marks.indexOf(".") >= 0 && marks.indexOf(",") >= 0) {
      decimal = marks.charAt(marks.length - 1);
    } else if (marks.length === 1) {
      if (t.split(marks)[1].length === 3 && t.indexOf(" ") < 0) { return null; }
      decimal = marks;
    }
    var parts = decimal ? t.split(decimal) : [t, ""];
    if (parts.length > 2) { return null; }
    var whole = parts[0].replace(/[., ]/g, ""), fraction = parts[1];
    if (!/^\d+$/.test(whole) || !/^\d{0,2}$/.test(fraction)) { return null; }
    return parseInt(whole, 10) * 100 + parseInt((fraction + "00").slice(0, 2), 10);
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
