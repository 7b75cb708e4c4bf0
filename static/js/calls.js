/* Caller screens: a live lease countdown, desktop keyboard shortcuts, one submit per tap, and
   remembering whether the script is folded. The pages work without any of this. */
(function () {
  "use strict";

  // ---------------------------------------------------------------- how long the call stays yours
  var lease = document.querySelector("[data-lease-seconds]");
  if (lease) {
    var endsAt = Date.now() + parseInt(lease.getAttribute("data-lease-seconds"), 10) * 1000;
    var shown = null;
    var tick = function () {
      var left = Math.round((endsAt - Date.now()) / 1000);
      var text;
      if (left <= 0) {
        text = "Your time on this call is up: another caller may be given this member. Record what happened now.";
        lease.classList.add("call-lease-over");
        lease.setAttribute("role", "alert");
      } else {
        var minutes = Math.ceil(left / 60);
        text = "Reserved for you for another " + minutes + (minutes === 1 ? " minute." : " minutes.");
        if (left <= 120 && !lease.classList.contains("call-lease-low")) {
          lease.classList.add("call-lease-low");
          lease.setAttribute("role", "status");
        }
      }
      if (text !== shown) {
        lease.textContent = text;
        shown = text;
      }
      if (left > 0) {
        window.setTimeout(tick, 5000);
      }
    };
    tick();
  }

  // ---------------------------------------------------------------- one tap, one submission
  var outcomeForm = document.getElementById("outcome-form");
  if (outcomeForm) {
    outcomeForm.addEventListener("submit", function (event) {
      if (outcomeForm.hasAttribute("data-sent")) {
        event.preventDefault();  // a double tap must not post the same call twice
        return;
      }
      outcomeForm.setAttribute("data-sent", "");
      outcomeForm.setAttribute("aria-busy", "true");
    });
  }

  // ---------------------------------------------------------------- keyboard shortcuts (desktop)
  var typing = function (el) {
    if (!el || !el.tagName) {
      return false;
    }
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") {
      return true;
    }
    if (el.tagName === "INPUT") {
      return ["radio", "checkbox", "submit", "button", "reset"].indexOf(el.type) === -1;
    }
    return false;
  };
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.repeat) {
      return;
    }
    if (typing(event.target) || !/^[a-z]$/i.test(event.key)) {
      return;
    }
    var target = document.querySelector('[data-key="' + event.key.toLowerCase() + '"]');
    if (!target || target.disabled) {
      return;
    }
    event.preventDefault();
    // "Call back" needs a time first: the key takes you to the picker until one is chosen.
    var focusFirst = target.getAttribute("data-focus");
    var picker = focusFirst ? document.querySelector(focusFirst) : null;
    if (picker && !picker.value) {
      picker.focus();
      return;
    }
    target.click();
  });

  // ---------------------------------------------------------------- the script stays as you left it
  var script = document.querySelector("details.call-script");
  if (script) {
    var KEY = "branchline.calls.scriptFolded";
    try {
      if (window.localStorage.getItem(KEY) === "1") {
        script.open = false;
      }
      script.addEventListener("toggle", function () {
        window.localStorage.setItem(KEY, script.open ? "0" : "1");
      });
    } catch (e) {
      // Storage can be switched off; the script then simply starts open.
    }
  }
})();
