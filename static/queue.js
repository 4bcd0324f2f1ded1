// Keyboard work for the moderation queue. Every action is also a plain button in a plain form.
(function () {
  "use strict";

  var cards = Array.prototype.slice.call(document.querySelectorAll("[data-card]"));
  var dialog = document.getElementById("shortcuts");
  var current = -1;

  function focusCard(index) {
    if (!cards.length) return;
    current = Math.max(0, Math.min(cards.length - 1, index));
    cards.forEach(function (card, i) { card.classList.toggle("is-current", i === current); });
    cards[current].focus();
    cards[current].scrollIntoView({ block: "nearest" });
  }

  function currentCard() { return current >= 0 ? cards[current] : null; }

  function click(selector) {
    var card = currentCard();
    var button = card && card.querySelector(selector);
    if (button) button.click();
  }

  function typing(target) {
    return /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName) || target.isContentEditable;
  }

  cards.forEach(function (card, index) {
    card.addEventListener("focusin", function () {
      current = index;
      cards.forEach(function (other, i) { other.classList.toggle("is-current", i === index); });
    });
  });

  // Enter on the reject reason submits the rejection (a select would otherwise ignore it).
  document.querySelectorAll("[data-reject-reason]").forEach(function (select) {
    select.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); select.form.requestSubmit(); }
    });
  });

  var openers = document.querySelectorAll("[data-shortcuts-open]");
  openers.forEach(function (button) {
    button.addEventListener("click", function () { dialog.showModal(); });
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && typing(event.target)) {
      var card = event.target.closest("[data-card]");
      if (card) card.focus();
      return;
    }
    if (typing(event.target) || (dialog && dialog.open)) return;
    switch (event.key) {
      case "j": focusCard(current + 1); break;
      case "k": focusCard(current - 1); break;
      case "a": click("[data-action=approve]"); break;
      case "s": click("[data-action=spam]"); break;
      case "r":
        var select = currentCard() && currentCard().querySelector("[data-reject-reason]");
        if (select) select.focus();
        break;
      case "x":
        var box = currentCard() && currentCard().querySelector("[data-select]");
        if (box) box.checked = !box.checked;
        break;
      case "b":  // the bulk bar, without tabbing back past every card
        var bulk = document.querySelector("#bulk-form input[name=scope]:checked");
        if (bulk) bulk.focus();
        break;
      case "?": if (dialog) dialog.showModal(); break;
      default: return;
    }
    event.preventDefault();
  });

  // #card-123 names a card; #card-at-4 a place on the page (the last card was decided: the one that
  // moved up from the next page, or the one before when none did).
  var at = /^#card-at-(\d+)$/.exec(location.hash);
  var target = !at && location.hash && document.querySelector(location.hash.replace(/[^#\w-]/g, ""));
  var start = at ? Math.min(Number(at[1]), cards.length - 1) : (target ? cards.indexOf(target) : 0);
  if (cards.length) focusCard(start >= 0 ? start : 0);
}());
