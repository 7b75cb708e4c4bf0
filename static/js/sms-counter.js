// Live SMS length while typing: characters, segments, GSM-7 or UCS-2 and the characters that force
// UCS-2. The same rules as crm/messaging/rendering.sms_length, which the server uses.
(function () {
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENDED = "^{}\\[~]|€\f";

  function smsLength(text) {
    var septets = 0, gsm = true, offenders = [];
    for (var ch of text) {
      if (BASIC.indexOf(ch) !== -1) { septets += 1; }
      else if (EXTENDED.indexOf(ch) !== -1) { septets += 2; }
      else { gsm = false; if (offenders.indexOf(ch) === -1) offenders.push(ch); }
    }
    var units = gsm ? septets : text.length;  // JS strings count UTF-16 code units, as UCS-2 does
    var single = gsm ? 160 : 70, multi = gsm ? 153 : 67;
    var segments = units <= single ? (units ? 1 : 0) : Math.ceil(units / multi);
    return { encoding: gsm ? "GSM-7" : "UCS-2", characters: units, segments: segments,
             perSegment: units <= single ? single : multi, nonGsm: offenders.join("") };
  }

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  document.querySelectorAll("[data-sms-counter]").forEach(function (box) {
    var area = document.getElementById(box.dataset.smsCounter);
    if (!area) return;
    var summary = box.querySelector("[data-part=summary]");
    var ucs2 = box.querySelector("[data-part=ucs2]");
    var chars = box.querySelector("[data-part=chars]");
    function update() {
      var s = smsLength(area.value);
      summary.textContent = plural(s.characters, "character") + " · " + plural(s.segments, "segment") +
        " (" + s.encoding + ", " + s.perSegment + " per segment)";
      ucs2.hidden = !s.nonGsm;
      chars.textContent = s.nonGsm;
    }
    area.addEventListener("input", update);
    box.hidden = false;
    update();
  });
})();
