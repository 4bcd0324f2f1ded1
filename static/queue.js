// Keyboard work and decisions in place for the moderation queue. Every action is also a plain button
// in a plain form: without this script each decision posts, redirects and reloads the queue.
(function () {
  "use strict";

  var dialog = document.getElementById("shortcuts");
  var heading = document.getElementById("queue-title");
  var bulk = document.querySelector("[data-bulk]");
  var announcer = document.querySelector("[data-announce]");
  var cardsBox = document.querySelector("[data-cards]");
  var undoneText = (cardsBox && cardsBox.getAttribute("data-undone")) || "";
  var busyText = (cardsBox && cardsBox.getAttribute("data-busy")) || "";
  var nothingToUndo = (cardsBox && cardsBox.getAttribute("data-nothing-to-undo")) || "";
  var noCardYet = (cardsBox && cardsBox.getAttribute("data-no-card")) || "";
  var root = document.documentElement;
  var current = null;  // the card the keys act on
  var MARGIN = 8;  // px kept between a card and whatever sticks above it, or the window's bottom

  function cards() { return Array.prototype.slice.call(document.querySelectorAll("[data-card]")); }
  // What j and k step through: the cards, and the lines of the ones decided here (k goes back to
  // one, u undoes it while its undo is offered).
  // A surge's cluster card (above the cards) is a stop too: a, s and r act on the whole cluster.
  var STOPS = "[data-cluster], [data-card], [data-decided]";
  function stops() { return Array.prototype.slice.call(document.querySelectorAll(STOPS)); }

  function markCurrent(card) {
    current = card;
    stops().forEach(function (other) { other.classList.toggle("is-current", other === card); });
  }

  // What sticks at the top of the window (the bulk bar while comments are selected): cards scroll
  // to just below it (their scroll-margin-top reads this variable).
  function stuckHeight() {
    return bulk && bulk.classList.contains("is-active") ? bulk.getBoundingClientRect().height : 0;
  }

  function updateStuck() { root.style.setProperty("--stuck-top", Math.ceil(stuckHeight()) + "px"); }

  // The whole element in view, below what sticks; a card taller than the room left shows its top.
  function reveal(element) {
    var top = stuckHeight() + MARGIN;
    var rect = element.getBoundingClientRect();
    if (rect.top >= top && rect.bottom <= window.innerHeight - MARGIN) return;
    var room = window.innerHeight - top - MARGIN;
    var delta = rect.height > room || rect.top < top ? rect.top - top : rect.bottom - (window.innerHeight - MARGIN);
    window.scrollBy(0, delta);
  }

  function focusElement(element) {
    element.focus({ preventScroll: true });
    reveal(element);
  }

  function focusCard(card) {
    if (!card) return;
    markCurrent(card);
    focusElement(card);
  }

  function step(direction) {
    var all = stops();
    if (!all.length) return;
    var index = all.indexOf(current);
    if (index < 0) { focusCard(all[direction > 0 ? 0 : all.length - 1]); return; }
    var next = all[index + direction];
    if (next) { focusCard(next); return; }
    var more = direction > 0 && document.querySelector("[data-next-page]");
    if (more) location.assign(more.href + "#card-at-0");  // j on the last card: on to the next page
  }

  // A cluster card's a or s decides every comment of it (dozens, by as many authors): the key is
  // pressed twice, the first time saying what the second will do.
  var armed = null;  // {button, until}: the first press
  function confirmedOnCluster(button) {
    if (!current.hasAttribute("data-cluster")) return true;
    var now = Date.now();
    if (armed && armed.button === button && now < armed.until) {
      armed = null;
      return true;
    }
    armed = { button: button, until: now + 5000 };
    announce((current.getAttribute("data-confirm-key") || "").replace("{action}", button.textContent.trim())
      .replace("{key}", button.getAttribute("aria-keyshortcuts")));
    return false;
  }

  // A key pressed while the card's decision is still being sent does nothing: said, not swallowed.
  function click(selector) {
    if (!current) {  // the page has just opened at its heading: said, rather than nothing happening
      announce(noCardYet);
      return true;
    }
    var button = current.querySelector(selector);
    if (button && button.disabled) announce(busyText.replace("{id}", current.id.replace("card-", "")));
    else if (button && confirmedOnCluster(button)) button.click();
    return Boolean(button);
  }

  // The decided line keeps the start of the comment, for the eye (its number alone said little when
  // going back up to undo one); the live region says the decision alone.
  function keepStartOf(card, line) {
    var body = card.querySelector(".comment-body");
    var text = body ? body.textContent.replace(/\s+/g, " ").trim() : "";
    if (!text) return;
    var start = document.createElement("span");
    start.className = "decided-text";
    start.dir = "auto";
    start.setAttribute("aria-hidden", "true");
    start.textContent = text.length > 30 ? text.slice(0, 30) + "…" : text;
    line.querySelector("p").after(start);
  }

  // A box ticked with the mouse keeps the focus: the shortcuts go on working from it.
  function typing(target) {
    if (target.tagName === "INPUT") return !/^(checkbox|radio|button|submit|reset)$/.test(target.type);
    return /^(SELECT|TEXTAREA)$/.test(target.tagName) || target.isContentEditable;
  }

  function announce(text) {
    if (!announcer) return;
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text.replace(/\s+/g, " ").trim(); }, 50);
  }

  // ---- ticks carried from page to page: kept for this tab of the queue and its filters, in this
  // browser tab (sessionStorage); the ticks of other pages go with the bulk form as hidden items.
  // A bulk decision made (#bulk-result) uses them up; one refused for its reason keeps them. ----
  var ticksKey = "queue-ticks:" + (bulk ? bulk.getAttribute("data-ticks-scope") : "");  // the tab and its filters

  function storedTicks() {
    try { return JSON.parse(window.sessionStorage.getItem(ticksKey) || "[]"); } catch (error) { return []; }
  }

  function carriedTicks() {
    return bulk ? Array.prototype.map.call(bulk.querySelectorAll("input[data-carried]"), function (input) {
      return input.value;
    }) : [];
  }

  var ticksSettled = false;  // a whole-page bulk decision sent: what is stored stands as it is

  function saveTicks() {
    if (!bulk || ticksSettled) return;
    var ticks = carriedTicks().concat(Array.prototype.map.call(
      document.querySelectorAll("[data-select]:checked"), function (box) { return box.value; }));
    try {
      if (ticks.length) window.sessionStorage.setItem(ticksKey, JSON.stringify(ticks));
      else window.sessionStorage.removeItem(ticksKey);
    } catch (error) { /* storage refused: the ticks stay on their page */ }
  }

  // The stored ticks are the truth, also over what the browser restores on Back (boxes as they were
  // when the page was left, before a 取消所有選取 on another page): each box is ticked if stored or
  // ticked by the page itself (a refused bulk decision's), the other pages' items rebuilt.
  function restoreTicks() {
    if (!bulk) return;
    bulk.querySelectorAll("input[data-carried]").forEach(function (input) { input.remove(); });
    var stored = {};
    storedTicks().slice(0, 500).forEach(function (value) {
      if (typeof value === "string" && /^\d+:\d+$/.test(value)) stored[value.split(":")[0]] = value;
    });
    document.querySelectorAll("[data-select]").forEach(function (box) {
      var id = box.value.split(":")[0];
      box.checked = id in stored || box.defaultChecked;
      delete stored[id];
    });
    Object.keys(stored).forEach(function (id) {
      var value = stored[id];
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "item";
      input.value = value;
      input.setAttribute("data-carried", "");
      bulk.appendChild(input);
    });
  }

  function clearTicks() {
    bulk.querySelectorAll("input[data-carried]").forEach(function (input) { input.remove(); });
    document.querySelectorAll("[data-select]:checked").forEach(function (box) { box.checked = false; });
    saveTicks();
    updateSelection();
    bulk.querySelector("summary").focus();  // the button hides itself: the focus stays in the bar
    sayTicks();
  }

  // What is selected now, said aloud (a tick changes nothing else a screen reader would hear).
  function sayTicks() {
    var counter = bulk && bulk.querySelector("[data-selected-count]");
    if (counter) announce(counter.textContent || counter.getAttribute("data-none"));
  }

  // ---- the bulk bar: closed to one line; open and kept in view while comments are selected ----
  function updateSelection() {
    if (!bulk) return;
    var elsewhere = carriedTicks().length;
    var selected = document.querySelectorAll("[data-select]:checked").length + elsewhere;
    var counter = bulk.querySelector("[data-selected-count]");
    var text = selected ? counter.getAttribute("data-template").replace("{n}", selected) : "";
    if (elsewhere) text += counter.getAttribute("data-elsewhere").replace("{n}", elsewhere);
    counter.textContent = text;
    var clear = bulk.querySelector("[data-clear-ticks]");
    if (clear) clear.hidden = !elsewhere;
    var details = bulk.querySelector("details");
    if (selected && !bulk.classList.contains("is-active")) details.open = true;
    if (!selected && bulk.classList.contains("is-active")) details.open = false;
    bulk.classList.toggle("is-active", selected > 0);
    updateStuck();
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-select]")) {
      saveTicks();
      updateSelection();
    }
  });
  if (bulk) {
    bulk.addEventListener("submit", function () {
      var scope = bulk.querySelector("input[name=scope]:checked");
      try {
        if (scope && scope.value === "page") {  // the page's own ticks go with it, the others' stay
          window.sessionStorage.setItem(ticksKey, JSON.stringify(carriedTicks()));
          window.sessionStorage.setItem(ticksKey + ":page-only", "1");
          ticksSettled = true;
        } else {
          window.sessionStorage.removeItem(ticksKey + ":page-only");
        }
      } catch (error) { /* storage refused: nothing to keep */ }
    });
    var clearButton = bulk.querySelector("[data-clear-ticks]");
    if (clearButton) clearButton.addEventListener("click", clearTicks);
  }
  window.addEventListener("pagehide", saveTicks);  // a card decided in place takes its tick with it
  // Shown again (from the browser's cache, or loaded with the boxes the browser restores after the
  // script has run): the stored ticks again.
  window.addEventListener("pageshow", function () { ticksSettled = false; restoreTicks(); updateSelection(); });
  if (bulk && location.hash === "#bulk-result") {  // the bulk decision the ticks were for is made
    try {
      // 本頁全部 decided this page's comments only: the other pages' ticks are still to be acted on.
      if (window.sessionStorage.getItem(ticksKey + ":page-only") === null) window.sessionStorage.removeItem(ticksKey);
      window.sessionStorage.removeItem(ticksKey + ":page-only");
    } catch (error) { /* nothing kept */ }
  }
  restoreTicks();
  updateSelection();  // boxes ticked when the page came (a refused bulk decision keeps them)
  if (bulk && window.ResizeObserver) new ResizeObserver(updateStuck).observe(bulk);

  // ---- decisions in place ----
  function fromHtml(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  function updateCounts(counts) {
    Object.keys(counts || {}).forEach(function (tab) {
      var badge = document.querySelector('[data-count="' + tab + '"]');
      if (badge) badge.textContent = counts[tab];
    });
  }

  // The author's counts on every card of theirs on the page (「此作者：通過 3 / …」), as they are now.
  function updateAuthors(authors) {
    (authors || []).forEach(function (author) {
      document.querySelectorAll('[data-author-history="' + author.tag + '"] [data-history]').forEach(function (count) {
        var value = author[count.getAttribute("data-history")];
        if (value !== undefined) count.textContent = value;
      });
    });
  }

  function forgetPageItem(commentId) {
    if (!bulk) return;
    bulk.querySelectorAll("input[name=page_item]").forEach(function (input) {
      if (input.value.split(":")[0] === String(commentId)) input.remove();
    });
  }

  function armUndo(line) {
    var form = line.querySelector("[data-undo]");
    if (!form) return;
    var seconds = Number(form.getAttribute("data-undo-seconds")) || 8;
    window.setTimeout(function () { if (form.isConnected) form.remove(); }, seconds * 1000);
  }

  // A refused decision keeps what the moderator chose and typed (the reason, the note).
  function keepTyped(from, to) {
    ["select[name=reason]", "input[name=note]"].forEach(function (selector) {
      var before = from.querySelector(selector);
      var after = to.querySelector(selector);
      if (before && after) after.value = before.value;
    });
  }

  // A form sent for its JSON answer, to `action` with the page's own query (its tab and filters: the
  // counts follow them) added to what the URL may carry already (?lang= on a page reached by a
  // language URL). Anything but JSON back (a sign-in page, an error page) rejects.
  function sentForJson(form, action) {
    var target = new URL(action, location.href);
    new URLSearchParams(location.search).forEach(function (value, name) { target.searchParams.set(name, value); });
    return fetch(target.href, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") !== 0) throw new Error("not JSON: " + response.status);
      return response.json();
    });
  }

  // The card after the one decided, else the one before: where the keyboard goes next.
  function neighbourOf(element) {
    return following(element) || cards().filter(function (card) { return card !== element; }).pop() || null;
  }

  // The card after this one, if any: after a decision the keyboard goes on down the page, never back
  // up to a card passed over (on the last card it stays on the decided line: j goes on to the next page).
  function following(element) {
    return cards().filter(function (card) {
      return element.compareDocumentPosition(card) & Node.DOCUMENT_POSITION_FOLLOWING;
    })[0] || null;
  }

  // The lines of the decisions made in place, in the order they were made: u on a card takes back the
  // latest, wherever it stands on the page (not the lowest one, which may be an older decision).
  var decidedLines = [];

  function decideInPlace(form) {
    var holder = form.closest("[data-card], [data-decided]");
    var busy = form.querySelectorAll("button");
    busy.forEach(function (button) { button.disabled = true; });
    holder.setAttribute("aria-busy", "true");  // dimmed while sent (style.css): a key pressed now does nothing
    sentForJson(form, form.getAttribute("data-in-place")).then(function (answer) {
      updateCounts(answer.counts);
      updateAuthors(answer.authors);
      if (answer.code === "decided") {
        var line = fromHtml(answer.html);
        keepStartOf(holder, line);
        holder.replaceWith(line);
        forgetPageItem(line.getAttribute("data-decided"));
        (answer.also || []).forEach(function (reply) {  // pending replies rejected with their parent
          var replyCard = document.getElementById("card-" + reply.id);
          if (replyCard) replyCard.replaceWith(fromHtml(reply.html));
          forgetPageItem(reply.id);
        });
        var next = following(line);
        decidedLines.push(line);
        armUndo(line);
        updateSelection();
        announce(line.querySelector("p").textContent);
        if (next) focusCard(next); else focusElement(line);
      } else if (answer.card) {  // undone, or refused: the card as it is now (with why, if refused)
        var card = fromHtml(answer.card);
        if (!answer.ok) keepTyped(holder, card);
        holder.replaceWith(card);
        var staying = [];  // replies decided on by someone since: they stay as they are, and it is said why
        (answer.also || []).forEach(function (reply) {  // replies rejected with it, back as cards
          var line = document.getElementById("decided-" + reply.id);
          if (line && reply.card) line.replaceWith(fromHtml(reply.card));
          else if (reply.problem) {
            staying.push(reply.problem);
            if (line) {  // its line says what is true now, not the rejection it no longer is
              line.querySelector("p").textContent = reply.problem;
              line.querySelectorAll("[data-undo]").forEach(function (undo) { undo.remove(); });
            } else {  // not on this tab (replies are not listed on 已通過): said on the card that came back
              var why = document.createElement("p");
              why.className = "notice card-said";
              why.textContent = reply.problem;
              card.insertBefore(why, card.querySelector(".card-head"));
            }
          }
        });
        updateSelection();
        var problem = card.querySelector(".card-problem");
        if (problem) announce(problem.textContent);
        else if (answer.code === "undone") {  // back to where it was: pending, spam, published… (and why a reply stays)
          var undoneId = card.id.replace("card-", "");
          // A pick the decision took down: put back, or not (the article has its picks already).
          var pick = {restored: "data-repicked", full: "data-not-repicked"}[answer.pick];
          if (pick) staying.unshift(cardsBox.getAttribute(pick).replace("{id}", undoneId));
          announce([undoneText.replace("{id}", undoneId)
            .replace("{status}", card.getAttribute("data-status-label") || "")].concat(staying).join(" "));
        }
        // A rejection without its reason: at the reason's list, where the missing choice is made.
        var reason = answer.code === "reason_required" && card.querySelector("[data-reject-reason]");
        // 其他 chosen, its note missing: at the note, where the missing words are typed.
        var note = reason && reason.value === "other" && card.querySelector("[name=note]");
        if (reason) { markCurrent(card); focusElement(note || reason); }
        // Decided by someone else first: on to the next card (said, and k goes back), so that the same
        // key pressed again, as if the first had not taken, does not overrule the other moderator.
        else if (answer.code === "conflict" && neighbourOf(card)) focusCard(neighbourOf(card));
        else focusCard(card);
      } else if (answer.code === "form_expired" && !form.hasAttribute("data-retried")) {
        // The page's token outlived its hour: every form of the page takes the new one, this one is sent again.
        document.querySelectorAll("input[name=csrf_token]").forEach(function (input) { input.value = answer.csrf_token; });
        form.setAttribute("data-retried", "");
        decideInPlace(form);
      } else if (answer.code === "unavailable") {  // the database is away: nothing done, nothing lost
        busy.forEach(function (button) { button.disabled = false; });
        holder.removeAttribute("aria-busy");
        var said = holder.querySelector("[data-outage]");
        if (!said) {
          said = document.createElement("p");
          said.className = "card-problem form-error";
          said.setAttribute("data-outage", "");
          form.parentNode.insertBefore(said, form);
        }
        said.textContent = answer.message;
        announce(answer.message);
      } else {
        throw new Error(answer.code);
      }
    }).catch(function () {
      form.submit();  // signed out, offline, anything unexpected: the plain post says what happened
    });
  }

  // A pick (p) made or taken back in place: the card comes back as it is now, saying what was done
  // (or why not: three picks already, naming them), and keeps the focus.
  function cardInPlace(form) {
    var holder = form.closest("[data-card]");
    form.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
    holder.setAttribute("aria-busy", "true");
    sentForJson(form, form.action).then(function (answer) {
      if (!answer.card) throw new Error(answer.code);
      var card = fromHtml(answer.card);
      // What an earlier pick said on another card (three picks already, naming them) is out of date now.
      document.querySelectorAll("[data-card] [data-pin-said]").forEach(function (said) { said.remove(); });
      keepTyped(holder, card);
      var ticked = holder.querySelector("[data-select]");
      var tick = card.querySelector("[data-select]");
      if (ticked && tick) tick.checked = ticked.checked;
      holder.replaceWith(card);
      updateSelection();
      focusCard(card);
      var said = card.querySelector(".card-said, .card-problem");
      if (said) announce(said.textContent);
    }).catch(function () {
      form.submit();  // signed out, offline, the comment gone: the plain post says what happened
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!window.fetch) return;
    if (form.hasAttribute("data-card-in-place")) {
      event.preventDefault();
      cardInPlace(form);
      return;
    }
    if (!form.hasAttribute("data-in-place")) return;
    event.preventDefault();
    decideInPlace(form);
  });

  // Enter on the reject reason submits the rejection (a select would otherwise ignore it).
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("[data-reject-reason]")) {
      event.preventDefault();
      var form = event.target.form;
      form.requestSubmit(form.querySelector("[data-action=reject]") || undefined);  // a cluster's names its decision
    }
  });

  document.addEventListener("focusin", function (event) {
    var card = event.target.closest && event.target.closest(STOPS);
    if (card && card !== current) markCurrent(card);
  });

  // On a phone the filters fold while none is set (their three rows stood between the tabs and the
  // first card); `/` and a tap on their summary open them.
  var filtersBox = document.querySelector("[data-filters]");
  if (filtersBox && !filtersBox.hasAttribute("data-active") && window.matchMedia("(max-width: 640px)").matches) {
    filtersBox.open = false;
  }

  // The shortcuts need this script: their hint is shown by it, never to a page without it.
  document.querySelectorAll("[data-shortcut-hint]").forEach(function (hint) { hint.hidden = false; });
  document.documentElement.classList.add("shortcuts-on");  // and the keys on the buttons (style.css)
  document.querySelectorAll("[data-shortcuts-open]").forEach(function (button) {
    button.addEventListener("click", function () { dialog.showModal(); });
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && typing(event.target)) {
      var card = event.target.closest("[data-card], [data-cluster]");
      if (card) card.focus();
      return;
    }
    if (typing(event.target) || (dialog && dialog.open)) return;
    switch (event.key) {
      case "j": step(1); break;
      case "k": step(-1); break;
      case "a": click("[data-action=approve]") || click("[data-action=keep]"); break;  // 已檢舉: keep
      case "s": click("[data-action=spam]"); break;
      case "p": click("[data-action=pin]"); break;  // a published comment: editors' pick, or not
      case "e": click("[data-action=answer]"); break;  // a published comment: answer as the site
      case "r":
        if (!current) { announce(noCardYet); break; }
        var select = current.querySelector("[data-reject-reason]");
        if (select) select.focus();
        break;
      case "u":  // on a decided line, its own undo (if still offered); on a card, the latest one, or
        // the result's (a bulk decision's 全部復原); else it says there is nothing to undo
        var onLine = current && current.hasAttribute("data-decided");
        var latest = onLine ? current : decidedLines.filter(function (line) { return line.isConnected; }).pop();
        var undo = latest ? latest.querySelector("[data-undo] button") : document.querySelector(".result form.undo button");
        if (undo) undo.click();
        else announce((latest && latest.getAttribute("data-no-undo")) || nothingToUndo);  // 保留並結案: never
        break;
      case "x":
        if (!current) { announce(noCardYet); break; }
        var box = current.querySelector("[data-select]");
        if (box) { box.checked = !box.checked; saveTicks(); updateSelection(); sayTicks(); }
        break;
      case "b":  // the bulk bar, without tabbing back past every card
        if (bulk) {
          bulk.querySelector("details").open = true;
          bulk.querySelector("input[name=scope]:checked").focus();
        }
        break;
      case "/":  // the text search, as in Discourse and Gmail
        var search = document.getElementById("filter-q");
        if (search) {
          var folded = search.closest("details");
          if (folded) folded.open = true;
          search.focus();
          search.select();
        }
        break;
      case "?": if (dialog) dialog.showModal(); break;
      default: return;
    }
    event.preventDefault();
  });

  // #card-123 names a card; #result-123 the card below a decision's result; #card-at-4 a place on the page (the last card was decided: the one that
  // moved up from the next page, or the one before when none did). Otherwise the page starts at its
  // heading, so that a screen reader reads the heading and the tabs before the first card.
  var all = cards();
  var at = /^#card-at-(\d+)$/.exec(location.hash);
  var after = /^#result-(\d+)$/.exec(location.hash);  // a result shown just above the card that moved up
  // A bulk decision's result, or the reason that a refused bulk or cluster rejection still needs.
  var named = /^#(bulk-(result|reason)|cluster-\d+-reason|sanction-result)$/.test(location.hash) && document.querySelector(location.hash);
  var target = after ? document.getElementById("card-" + after[1])
    : !at && /^#card-\d+$/.test(location.hash) && document.querySelector(location.hash);
  updateSelection();
  if (at && all.length) focusCard(all[Math.min(Number(at[1]), all.length - 1)]);
  else if (target) focusCard(target);
  else if (named) named.focus();
  else if (heading) heading.focus();
}());
