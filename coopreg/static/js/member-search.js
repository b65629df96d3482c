// Member search as you type: asks the app for up to 10 members and lets the treasurer pick
// one; the chosen member's id goes into the hidden field. Without JavaScript the typed text
// is searched on the server instead. No inline script (the CSP forbids it).
(function () {
  "use strict";
  function setup(input) {
    var url = input.getAttribute("data-member-search");
    var hidden = document.getElementById(input.getAttribute("data-target"));
    var list = document.getElementById(input.getAttribute("data-results"));
    var timer = null;
    var asked = 0;
    function clear() {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      input.setAttribute("aria-expanded", "false");
    }
    function show(items) {
      clear();
      items.forEach(function (m) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "link";
        button.setAttribute("role", "option");
        button.textContent = m.label + (m.locality ? " · " + m.locality : "");
        button.addEventListener("click", function () {
          hidden.value = m.id;
          input.value = m.label;
          clear();
          input.focus();
        });
        item.appendChild(button);
        list.appendChild(item);
      });
      input.setAttribute("aria-expanded", items.length ? "true" : "false");
    }
    input.addEventListener("input", function () {
      hidden.value = "";
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2) { clear(); return; }
      timer = setTimeout(function () {
        var mine = ++asked;
        fetch(url + "?q=" + encodeURIComponent(q),
              { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) { if (mine === asked) { show(items); } })
          .catch(function () { clear(); });
      }, 200);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { clear(); }
    });
  }
  document.querySelectorAll("input[data-member-search]").forEach(setup);
})();
