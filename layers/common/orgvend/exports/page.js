(function () {
  "use strict";
  var input = document.getElementById("q");
  var count = document.getElementById("count");
  var empty = document.getElementById("empty");
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.client"));
  var groups = sections.map(function (section) {
    var rows = Array.prototype.slice.call(section.querySelectorAll("tr[data-search]"));
    return { section: section, rows: rows, count: section.querySelector("h2 .n") };
  });
  var total = groups.reduce(function (sum, group) { return sum + group.rows.length; }, 0);
  function label(text, number) { return text + (number === 1 ? " account" : " accounts"); }
  function apply() {
    var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    groups.forEach(function (group) {
      var visible = 0;
      group.rows.forEach(function (row) {
        var text = row.getAttribute("data-search");
        var match = terms.every(function (term) { return text.indexOf(term) !== -1; });
        row.hidden = !match;
        if (match) { visible += 1; }
      });
      group.section.hidden = visible === 0;
      group.count.textContent = label(terms.length ? visible + " of " + group.rows.length : group.rows.length, group.rows.length);
      shown += visible;
    });
    count.textContent = label(terms.length ? shown + " of " + total : total, total);
    empty.hidden = shown !== 0;
  }
  function fromFragment() {
    var match = /(?:^#|&)q=([^&]*)/.exec(window.location.hash);
    if (!match) { return; }
    try { input.value = decodeURIComponent(match[1].replace(/\+/g, " ")); } catch (error) { input.value = match[1]; }
  }
  function toFragment() {
    var url = window.location.href.split("#")[0] + (input.value ? "#q=" + encodeURIComponent(input.value) : "");
    try { window.history.replaceState(null, "", url); } catch (error) { /* file: URLs in some browsers */ }
  }
  input.addEventListener("input", function () { apply(); toFragment(); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { input.value = ""; apply(); toFragment(); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && document.activeElement !== input) { event.preventDefault(); input.focus(); }
  });
  window.addEventListener("hashchange", function () { fromFragment(); apply(); });
  fromFragment();
  apply();
  document.documentElement.setAttribute("data-ready", "true");
})();
