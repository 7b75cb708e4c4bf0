/* The public letter page: small enhancements only; every step works without this file.
   - focus the error summary (or the nudge) so screen readers and phones start there;
   - the live "still the template" figure (same sum as crm/campaigns/similarity.py);
   - an employer typeahead over the <select>;
   - the mobile number box shown only when text updates are ticked. */
(function () {
  "use strict";
  var SHINGLE = 4;

  var focus = document.querySelector("[data-focus]");
  if (focus) { focus.focus(); }

  function words(text) {
    return (text.toLowerCase().replace(/\u2019/g, "'").match(/[a-z0-9']+/g)) || [];
  }
  function shingles(ws) {
    var set = {};
    if (ws.length < SHINGLE) { if (ws.length) { set[ws.join(" ")] = true; } return set; }
    for (var i = 0; i + SHINGLE <= ws.length; i++) { set[ws.slice(i, i + SHINGLE).join(" ")] = true; }
    return set;
  }
  var PROMPT = "[replace this line with a few sentences";
  function share(body, templateSet) {
    var lines = body.split("\n").filter(function (l) { return l.toLowerCase().indexOf(PROMPT) === -1; });
    var ws = words(lines.join("\n"));
    if (!ws.length) { return 100; }
    if (ws.length < SHINGLE) { return templateSet[ws.join(" ")] ? 100 : 0; }
    var covered = new Array(ws.length);
    for (var i = 0; i + SHINGLE <= ws.length; i++) {
      if (templateSet[ws.slice(i, i + SHINGLE).join(" ")]) {
        for (var j = i; j < i + SHINGLE; j++) { covered[j] = true; }
      }
    }
    var n = 0;
    for (var k = 0; k < ws.length; k++) { if (covered[k]) { n++; } }
    return Math.round(100 * n / ws.length);
  }
  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-template]"), function (area) {
    var out = document.getElementById(area.getAttribute("data-share"));
    var value = out && out.querySelector("[data-share-value]");
    if (!value) { return; }
    var templateSet = shingles(words(area.getAttribute("data-template")));
    var timer = null;
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { value.textContent = share(area.value, templateSet) + "%"; }, 250);
    });
  });

  // Employer typeahead: a text box with a list of matches; the hidden <select> is what is sent.
  Array.prototype.forEach.call(document.querySelectorAll("[data-typeahead]"), function (box) {
    var select = box.querySelector("select");
    if (!select) { return; }
    var options = Array.prototype.filter.call(select.options, function (o) { return o.value !== ""; });
    var input = document.createElement("input");
    input.type = "text";
    input.id = select.id;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("autocomplete", "off");
    input.setAttribute("aria-describedby", select.getAttribute("aria-describedby") || "");
    if (select.getAttribute("aria-invalid")) { input.setAttribute("aria-invalid", "true"); }
    select.id = select.id + "-select";
    var list = document.createElement("ul");
    list.id = input.id + "-list";
    list.className = "act-typeahead-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.setAttribute("aria-controls", list.id);
    var chosen = select.options[select.selectedIndex];
    if (chosen && chosen.value !== "") { input.value = chosen.text; }
    select.hidden = true;
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
    select.parentNode.insertBefore(input, select);
    select.parentNode.insertBefore(list, select);
    var active = -1;

    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); active = -1; }
    function choose(option) {
      input.value = option.text;
      select.value = option.value;
      close();
    }
    function render() {
      var q = input.value.trim().toLowerCase();
      list.innerHTML = "";
      active = -1;
      var matches = options.filter(function (o) {
        return !q || o.text.toLowerCase().indexOf(q) !== -1 || o.value === "0";
      });
      matches.forEach(function (o, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.textContent = o.text;
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(o); });
        list.appendChild(li);
      });
      list.hidden = !matches.length;
      input.setAttribute("aria-expanded", matches.length ? "true" : "false");
      // A typed name that matches one option exactly counts as choosing it.
      var exact = options.filter(function (o) { return o.text.toLowerCase() === q; });
      select.value = exact.length ? exact[0].value : "";
    }
    function move(step) {
      var items = list.querySelectorAll("li");
      if (!items.length) { return; }
      if (active >= 0) { items[active].setAttribute("aria-selected", "false"); }
      active = (active + step + items.length) % items.length;
      items[active].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }
    input.addEventListener("input", render);
    input.addEventListener("focus", render);
    input.addEventListener("blur", function () { setTimeout(close, 100); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") { e.preventDefault(); if (list.hidden) { render(); } move(1); }
      else if (e.key === "ArrowUp") { e.preventDefault(); move(-1); }
      else if (e.key === "Enter" && active >= 0 && !list.hidden) {
        e.preventDefault();
        var text = list.querySelectorAll("li")[active].textContent;
        var option = options.filter(function (o) { return o.text === text; })[0];
        if (option) { choose(option); }
      } else if (e.key === "Escape") { close(); }
    });
    // Labels point at the text box now.
    var label = box.querySelector("label[for='" + select.id.replace(/-select$/, "") + "']");
    if (label) { label.htmlFor = input.id; }
  });

  // Text updates need a mobile number: show the box only when that is ticked.
  var sms = document.getElementById("wants_sms");
  var mobile = document.querySelector(".act-conditional");
  if (sms && mobile && !mobile.classList.contains("has-error")) {
    var sync = function () { mobile.hidden = !sms.checked; };
    sms.addEventListener("change", sync);
    sync();
  }
}());
