// "Select all on this page": a checkbox with data-select-all="NAME" ticks every checkbox
// named NAME in its form.
document.addEventListener("change", function (event) {
  var box = event.target;
  if (!box.matches || !box.matches("input[data-select-all]")) { return; }
  var name = box.getAttribute("data-select-all");
  box.form.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (c) {
    c.checked = box.checked;
  });
});
