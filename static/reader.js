// Progressive enhancement only: every control below also works as a plain form without JavaScript.
// The article page is shared by every reader (and by caches), so it carries no token and no
// captcha; this script fetches both from /form-token when the reader starts writing or reporting.
(function () {
  "use strict";

  // The message that says what happened takes the focus (the URL's #form-status or #notice already
  // gave it; this covers a page reached otherwise) and is brought into view.
  var focusTarget = document.querySelector("[data-focus-on-load]");
  if (focusTarget && document.activeElement !== focusTarget) {
    focusTarget.focus();
  }

  // A required field left empty is said in the page's language (static/required.js, loaded first).
  var onlySpaces = window.requiredFields.onlySpaces;

  // The form page's language buttons send the form, so that the draft survives without JavaScript;
  // here the draft is in sessionStorage, so they follow the switch's link instead: no page that Back
  // or Reload would have to post again. Not when the page says why a post was refused: the server
  // says it again in the other language only when the form is sent.
  if (!document.querySelector("input[name=shown_error]")) {
    document.querySelectorAll("[data-language-href]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        window.location.assign(button.getAttribute("data-language-href"));
      });
    });
  }

  // 「回覆 @暱稱」 above the form: whom the reply answers (a click on 回覆, or a draft brought back).
  function showReplying(form, name) {
    var line = form.querySelector("[data-replying]");
    line.dataset.name = name;
    line.querySelector("[data-replying-text]").textContent = line.dataset.template.replace("{name}", name);
    line.hidden = false;
    form.classList.add("is-reply");
    describedByReplying(form, true);
  }

  // The text box says whom it answers (「回覆 @暱稱」), as the line above it shows.
  function describedByReplying(form, replying) {
    var body = form.querySelector("#body");
    var ids = (body.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && id !== "replying-text";
    });
    if (replying) ids.unshift("replying-text");
    body.setAttribute("aria-describedby", ids.join(" "));
  }

  // The pinyin glosses are for the eye: a voice says the characters themselves, and a gloss read
  // after each one broke the words apart (「檢 驗 yàn 檢 測 cè」). Hidden here, not in the stored HTML:
  // an attribute on each of an article's hundreds of glosses would weigh on the shared page.
  document.querySelectorAll(".article-body rt").forEach(function (gloss) { gloss.setAttribute("aria-hidden", "true"); });

  var toggle = document.querySelector("[data-pinyin-toggle]");
  if (toggle) {
    toggle.addEventListener("submit", function (event) {
      event.preventDefault();
      document.body.classList.toggle("pinyin-hidden");
      fetch(toggle.action, { method: "POST", body: new FormData(toggle), credentials: "same-origin", redirect: "manual" });
    });
  }

  var formState = null;
  function fetchFormState() {
    if (!formState) {
      formState = fetch("/form-token", { credentials: "same-origin", cache: "no-store" })
        .then(function (response) { if (!response.ok) throw response; return response.json(); });
      formState.catch(function () { formState = null; });
    }
    return formState;
  }

  function setTokens(container, state) {
    container.querySelectorAll("[data-csrf-token]").forEach(function (input) { input.value = state.csrf_token; });
  }

  var form = document.querySelector("[data-comment-form]");
  if (form) {
    enhanceCommentForm(form);
  }

  function enhanceCommentForm(form) {
    var idField = form.querySelector("[data-captcha-id]");
    var media = form.querySelector("[data-captcha-media]");
    var live = form.querySelector("[data-captcha-live]");
    var placeholder = form.querySelector("[data-captcha-placeholder]");
    var answer = form.querySelector("#captcha_answer");
    var mediumField = form.querySelector("[data-captcha-medium]");
    var switchButton = form.querySelector("[data-captcha-switch]");

    var status = form.querySelector("[data-captcha-status]");
    var nickname = form.querySelector("#nickname");
    var anonymous = form.querySelector("#anonymous");
    var body = form.querySelector("#body");

    // Enter in the nickname (a phone keyboard's 前往) goes on to the text, it does not post.
    nickname.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.isComposing) {
        event.preventDefault();
        body.focus();
      }
    });

    // The nickname checked as it is typed, by the server's own rules (/nickname-check); the
    // browser then refuses to send the form with the same words, before any captcha is used.
    function showNicknameProblem(message) {
      var ids = (nickname.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
        return id && id !== "nickname-error";
      });
      var error = form.querySelector("#nickname-error");
      if (message) {
        if (!error) {
          error = document.createElement("p");
          error.className = "field-error";
          error.id = "nickname-error";
          error.setAttribute("aria-live", "polite");
          nickname.parentNode.appendChild(error);
        }
        if (error.textContent !== message) error.textContent = message;
        ids.push("nickname-error");
        nickname.setAttribute("aria-invalid", "true");
      } else {
        if (error) error.remove();
        nickname.removeAttribute("aria-invalid");
      }
      nickname.setAttribute("aria-describedby", ids.join(" "));
    }
    var problemOf = {};  // nickname → the server's message for it ("" when it is fine)
    function nicknameValidity() {
      var value = nickname.value;
      var message = anonymous.checked ? "" : !value.trim() ? nickname.dataset.missing : problemOf[value] || "";
      nickname.setCustomValidity(message);
      return message;
    }
    var checkTimer = null;
    function checkNickname() {
      var value = nickname.value;
      if (anonymous.checked || !value.trim() || value in problemOf) {
        showNicknameProblem(anonymous.checked || !value.trim() ? "" : problemOf[value]);
        nicknameValidity();
        return;
      }
      // The check's URL may carry a query of its own (?lang= on a page reached by a language URL).
      var url = new URL(nickname.dataset.checkUrl, window.location.href);
      url.searchParams.set("nickname", value);
      fetch(url.href, { credentials: "omit" })
        .then(function (response) { if (!response.ok) throw response; return response.json(); })
        .then(function (answer) {
          problemOf[value] = answer.problem ? nickname.dataset[answer.problem] || "" : "";
          if (nickname.value !== value) return;  // typed on since
          showNicknameProblem(problemOf[value]);
          nicknameValidity();
        })
        .catch(function () {});  // the server checks again when the form is sent
    }
    nickname.addEventListener("input", function () {
      clearTimeout(checkTimer);
      nicknameValidity();
      checkTimer = setTimeout(checkNickname, 300);
    });
    anonymous.addEventListener("change", checkNickname);
    // A draft of this article's comment lives in this tab (sessionStorage): switching the language
    // or leaving the page does not empty the form, and a posted comment clears it. The nickname is
    // remembered in this browser (localStorage) for the next comment.
    var draftKey = "comment-draft:" + form.dataset.slug;
    function store(storage, key, value) {
      try { if (value === null) storage.removeItem(key); else storage.setItem(key, value); } catch (error) { /* private mode */ }
    }
    function read(storage, key) {
      try { return storage.getItem(key); } catch (error) { return null; }
    }
    if (document.querySelector("[data-comment-posted]")) store(sessionStorage, draftKey, null);
    var draft = null;
    try { draft = JSON.parse(read(sessionStorage, draftKey) || "null"); } catch (error) { draft = null; }
    var replyField = form.querySelector("[data-reply-to]");
    var replyingLine = form.querySelector("[data-replying]");
    // A language switched while writing: the page in the other language opens at the form, not at
    // the top of the article (on a phone the form is thousands of pixels down), and says the draft is kept.
    var followKey = "comment-draft-follows";
    var followed = read(sessionStorage, followKey) === form.dataset.slug;
    store(sessionStorage, followKey, null);
    if (draft && !body.value && !nickname.value) {
      nickname.value = draft.nickname || "";
      body.value = draft.body || "";
      anonymous.checked = !!draft.anonymous;
      if (draft.reply && !replyField.value) {  // a reply stays one (the server checks it is still open)
        replyField.value = draft.reply.id;
        showReplying(form, draft.reply.name);
      }
      if (followed && (body.value.trim() || nickname.value.trim())) form.setAttribute("data-draft-followed", "");
    }
    document.querySelectorAll(".language-switch a, [data-language-href]").forEach(function (link) {
      link.addEventListener("click", function () {
        if (body.value.trim() || nickname.value.trim()) store(sessionStorage, followKey, form.dataset.slug);
      });
    });
    if (!nickname.value && !anonymous.checked) nickname.value = read(localStorage, "comment-nickname") || "";
    nicknameValidity();
    if (nickname.value.trim() && !form.querySelector("#nickname-error")) checkNickname();
    function saveDraft() {
      var reply = replyField.value ? { id: replyField.value, name: replyingLine.dataset.name || "" } : null;
      store(sessionStorage, draftKey, JSON.stringify({ nickname: nickname.value, body: body.value, anonymous: anonymous.checked, reply: reply }));
    }
    form.addEventListener("input", saveDraft);
    form.addEventListener("change", saveDraft);
    form.addEventListener("submit", function () {
      if (!anonymous.checked && nickname.value.trim()) store(localStorage, "comment-nickname", nickname.value.trim());
    });

    // Ticking 匿名 drops a typed nickname: say so while both are there.
    var anonymousNote = form.querySelector("[data-anonymous-note]");
    function noteAnonymous() {
      var text = anonymous.checked && nickname.value.trim() ? form.dataset.anonymousNoteText : "";
      if (anonymousNote.textContent !== text) anonymousNote.textContent = text;
    }
    anonymous.addEventListener("change", noteAnonymous);
    nickname.addEventListener("input", noteAnonymous);
    noteAnonymous();

    // The count of characters on screen; the live region speaks only near the limit and at it.
    var counter = form.querySelector("[data-counter]");
    var count = form.querySelector("[data-count]");
    var counterStatus = form.querySelector("[data-counter-status]");
    var limit = parseInt(counterStatus.dataset.max, 10);
    var spokenStep = null;
    function updateCounter() {
      var length = Array.from(body.value).length;
      count.textContent = length;
      var left = limit - length;
      var over = left < 0 ? counterStatus.dataset.over.replace("{n}", -left) : "";
      // The form is held back, with why, until the text is short enough (and is more than spaces).
      body.setCustomValidity(over || onlySpaces(body));
      counter.classList.toggle("is-over", left < 0);
      var step = left < 0 ? -1 : left === 0 ? 0 : left <= 10 ? 10 : left <= 50 ? 50 : left <= 100 ? 100 : null;
      if (step !== spokenStep) {
        spokenStep = step;
        counterStatus.textContent = step === null ? "" : left < 0 ? over : left === 0 ? counterStatus.dataset.full
                                                                   : counterStatus.dataset.left.replace("{n}", left);
      }
    }
    counter.hidden = false;
    body.addEventListener("input", updateCounter);
    updateCounter();

    // A refused audio request (the per-address limit) leaves the player at 0:00: say why, and how long.
    function watchAudio(audio) {
      audio.addEventListener("error", function () {
        fetch(audio.src, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
          var wait = response.headers.get("Retry-After");
          status.textContent = response.status === 429 && wait
            ? status.dataset.audioLimit.replace("{seconds}", wait)
            : status.dataset.audioUnavailable;
          status.hidden = false;
        }).catch(function () {
          status.textContent = status.dataset.audioUnavailable;
          status.hidden = false;
        });
      });
    }
    var serverAudio = media && media.querySelector("audio");
    if (serverAudio) watchAudio(serverAudio);

    function setMedium(useAudio) {
      mediumField.value = useAudio ? "audio" : "image";
      switchButton.value = useAudio ? "image" : "audio";
      switchButton.textContent = useAudio ? switchButton.dataset.labelImage : switchButton.dataset.labelAudio;
      var another = form.querySelector("[data-captcha-new]");  // 換一張, or 換一段語音 while listening
      another.textContent = useAudio ? another.dataset.labelAudio : another.dataset.labelImage;
    }

    // The voice speaks the page's language: a page reached by ?lang= in a browser set to another
    // language fetched its challenge from an address that does not say the page's.
    function inPageLanguage(address) {
      var language = document.documentElement.lang;
      return language ? address + (address.indexOf("?") < 0 ? "?" : "&") + "lang=" + encodeURIComponent(language) : address;
    }

    function showChallenge(challenge, useAudio, focus) {
      idField.value = challenge.id;
      answer.value = "";
      media.textContent = "";
      status.hidden = true;
      status.textContent = "";
      if (useAudio) {
        var audio = document.createElement("audio");
        audio.controls = true;
        audio.preload = "none";
        audio.src = inPageLanguage(challenge.audio);
        audio.setAttribute("aria-label", media.dataset.audioLabel);
        watchAudio(audio);
        media.appendChild(audio);
        // The player takes the focus and waits for the reader: played at once, the words a screen
        // reader says of the focused field talked over the challenge.
        if (focus) { audio.focus(); return; }
      } else {
        var image = document.createElement("img");
        image.src = challenge.image;
        image.width = 200;
        image.height = 70;
        image.alt = media.dataset.imageAlt;
        media.appendChild(image);
      }
      if (focus) answer.focus();
    }

    // The shared page's form: fetch a token and a challenge once the reader starts writing.
    if (!idField.value) {
      var started = false;
      var start = function () {
        if (started) return;
        started = true;
        fetchFormState().then(function (state) {
          setTokens(form, state);
          if (state.captcha_needed === false) {  // a trusted returning author: no captcha
            idField.value = state.captcha.id;  // still the submission's key
            form.querySelector("#captcha-field").hidden = true;
            form.querySelector("[data-captcha-skipped]").hidden = false;
            form.action = form.getAttribute("data-post-url");
            return;
          }
          showChallenge(state.captcha, false, false);
          live.hidden = false;
          answer.required = true;
          if (placeholder) placeholder.hidden = true;
          form.action = form.getAttribute("data-post-url");
        }).catch(function () { started = false; });
      };
      form.addEventListener("focusin", start);
      form.addEventListener("input", start);
    }

    form.addEventListener("click", function (event) {
      var button = event.target.closest("[data-captcha-new], [data-captcha-switch]");
      if (!button) return;
      event.preventDefault();
      // 換一張 keeps the medium the reader is using; the switch changes it.
      var useAudio = button.hasAttribute("data-captcha-switch") ? button.value === "audio"
                                                                 : mediumField.value === "audio";
      fetch("/captcha/new", { credentials: "same-origin", cache: "no-store" })
        .then(function (response) { if (!response.ok) throw response; return response.json(); })
        .then(function (challenge) { setMedium(useAudio); showChallenge(challenge, useAudio, true); })
        .catch(function () {
          // Fall back to the server-rendered path (keeps what the reader typed).
          var action = document.createElement("input");
          action.type = "hidden"; action.name = "action"; action.value = useAudio ? "audio" : "image";
          form.appendChild(action);
          form.submit();
        });
    });
  }

  // Phones: the form folded behind 寫評論 so that the comments come first (CSS folds it on narrow
  // screens only); the button opens it in place with the focus in it, and the bar at the foot of the
  // screen, a plain link to #comments, opens it too. A draft being written keeps it open.
  var composer = document.querySelector("[data-composer]");
  if (composer && form) {
    var opener = composer.querySelector("[data-composer-open]");
    var openComposer = function (focus) {
      composer.classList.remove("is-folded");
      opener.hidden = true;
      opener.setAttribute("aria-expanded", "true");
      if (focus) {
        var nicknameField = form.querySelector("#nickname");
        (nicknameField.value.trim() || form.querySelector("#anonymous").checked ? form.querySelector("#body") : nicknameField).focus();
      }
    };
    if (!form.querySelector("#body").value.trim() && window.location.hash !== "#comment-form") {
      composer.classList.add("is-folded");
      opener.hidden = false;
    }
    opener.addEventListener("click", function () { openComposer(true); });
    document.querySelectorAll("[data-comment-bar] a").forEach(function (link) {
      link.addEventListener("click", function () { openComposer(false); });  // then on to #comments
    });
    if (form.hasAttribute("data-draft-followed")) openComposer(false);
  }
  if (form && form.hasAttribute("data-draft-followed")) {
    var kept = document.createElement("p");
    kept.className = "notice";
    kept.setAttribute("role", "status");
    form.insertBefore(kept, form.firstChild);
    var draftBody = form.querySelector("#body");
    draftBody.focus();  // and into view
    draftBody.setSelectionRange(draftBody.value.length, draftBody.value.length);
    window.setTimeout(function () { kept.textContent = form.dataset.draftKeptText; }, 50);  // a live region fills after it is there
  }

  // 回覆: the page's one comment form moves under the comment answered, says 「回覆 @暱稱」 and carries
  // its id; 取消回覆 takes it back. Without JavaScript the link opens the form page as a reply.
  var replyTo = form && form.querySelector("[data-reply-to]");
  if (replyTo && document.querySelector("[data-comment-list]")) {
    var replying = form.querySelector("[data-replying]");
    var formHome = form.parentNode;
    var formNext = form.nextSibling;
    document.addEventListener("click", function (event) {
      var link = event.target.closest("[data-reply-link]");
      if (!link) return;
      event.preventDefault();
      var answered = link.closest("li");
      replyTo.value = new URL(link.href).searchParams.get("reply_to");
      showReplying(form, answered.querySelector(":scope > .comment-meta .author").textContent);
      link.closest(".comment-actions").after(form);
      form.dispatchEvent(new Event("change"));  // the draft remembers whom it answers
      form.querySelector("#body").focus({ preventScroll: true });
      replying.scrollIntoView({ block: "start" });  // the line saying whom, with the box below it, in view
    });
    replying.querySelector("[data-reply-cancel]").addEventListener("click", function (event) {
      event.preventDefault();
      var back = form.closest("li") && form.closest("li").querySelector("[data-reply-link]");
      replyTo.value = "";
      replying.hidden = true;
      replying.querySelector("[data-replying-text]").textContent = "";
      describedByReplying(form, false);
      form.classList.remove("is-reply");
      form.dispatchEvent(new Event("change"));
      formHome.insertBefore(form, formNext);
      (back || form.querySelector("#body")).focus();
    });
  }

  // A next keyset page (older comments, or a thread's later replies) appended in place: the items not
  // shown yet, their likes pressed, the link moved on to the page after (or gone), the focus on the
  // first new item.
  function commentNumber(item) {
    return Number((item.id || "").replace("comment-", "")) || 0;
  }

  // The first reply shown that came after `item` (the site's answers are shown under a thread however
  // late they came, so the thread's other replies go before them).
  function laterThan(item, into) {
    var number = commentNumber(item);
    return Array.prototype.find.call(into.children, function (shown) { return commentNumber(shown) > number; }) || null;
  }

  function appendPage(items, into, later, more, inOrder) {
    var first = null;
    items.forEach(function (item) {
      if (document.getElementById(item.id)) return;
      var adopted = document.importNode(item, true);
      into.insertBefore(adopted, inOrder ? laterThan(adopted, into) : null);
      pressLiked(adopted);
      nameLikeButtons(adopted);
      first = first || adopted;
    });
    if (later) {
      more.setAttribute("href", later.getAttribute("href"));
    } else {
      more.remove();
    }
    if (first) {
      first.tabIndex = -1;
      first.focus();
    }
  }

  // 查看全部 N 則回覆 appends the thread's other replies in place; the link itself opens the thread's page.
  document.addEventListener("click", function (event) {
    var more = event.target.closest("[data-more-replies]");
    if (!more) return;
    event.preventDefault();
    var thread = more.closest("li");
    fetch(more.href, { credentials: "same-origin" })
      .then(function (response) { if (!response.ok) throw response; return response.text(); })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html");
        var replies = thread.querySelector(":scope > [data-replies]");
        if (!replies) {
          replies = document.createElement("ol");
          replies.className = "replies";
          replies.setAttribute("data-replies", "");
          more.before(replies);
        }
        appendPage(next.querySelectorAll("[data-thread-replies] > li"), replies,
                   next.querySelector("[data-later-replies]"), more, true);
      })
      .catch(function () { window.location.href = more.href; });
  });

  // One report form for the whole page, moved under the comment being reported.
  var reportForm = document.querySelector("[data-report-form]");
  var list = document.querySelector("[data-comment-list]");
  if (reportForm && list) {
    document.addEventListener("click", function (event) {
      var link = event.target.closest("[data-report-link]");
      if (!link) return;
      event.preventDefault();
      fetchFormState().then(function (state) {
        setTokens(reportForm, state);
        reportForm.action = link.href;
        link.closest("li").appendChild(reportForm);
        reportForm.hidden = false;
        reportForm.reset();  // a new comment, a new report: the first reason, no words
        showNoteProblem(null);
        reportForm.querySelector("input[type=radio]").focus();
      }).catch(function () { window.location.href = link.href; });
    });
    // The words for 其他: typing them ticks 其他; a note the server refuses is said beside it.
    var note = reportForm.querySelector("[data-report-note]");
    note.addEventListener("input", function () {
      if (note.value.trim()) reportForm.querySelector("input[name=reason][value=other]").checked = true;
    });
    function showNoteProblem(problem) {
      var error = reportForm.querySelector("#note-error");
      if (error) error.remove();
      note.removeAttribute("aria-invalid");
      note.setAttribute("aria-describedby", "report-note-hint");
      if (!problem) return;
      error = document.createElement("p");
      error.className = "field-error";
      error.id = "note-error";
      error.textContent = note.dataset[problem] || "";
      note.parentNode.appendChild(error);
      note.setAttribute("aria-invalid", "true");
      note.setAttribute("aria-describedby", "report-note-hint note-error");
      note.focus();
    }
    function closeReport() {
      var link = reportForm.closest("li").querySelector("[data-report-link]");
      reportForm.hidden = true;
      if (link) link.focus();
    }
    reportForm.querySelector("[data-report-cancel]").addEventListener("click", closeReport);
    reportForm.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); closeReport(); }
    });
    // Reported in place: the page stays where it is (older comments loaded stay loaded), the comment
    // says 已檢舉, and the focus goes to the sentence that says what happened.
    reportForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var item = reportForm.closest("li");
      fetch(reportForm.action, {
        method: "POST", body: new FormData(reportForm), credentials: "same-origin",
        headers: { "Accept": "application/json" }
      })
        .then(function (response) {
          if (response.status === 422) {  // the note, refused: said beside it, the words kept
            return response.json().then(function (answer) { showNoteProblem(answer.problem); return null; });
          }
          if (!response.ok) throw response;
          return response.json();
        })
        .then(function (answer) {
          if (!answer) return;
          var said = { recorded: "reportRecorded", hidden: "reportRecorded", already: "reportAlready",
                       already_here: "reportAlreadyHere", too_many: "reportTooMany" }[answer.outcome] || "reportRecorded";
          reportForm.hidden = true;
          document.querySelector("[data-comments-end]").appendChild(reportForm);
          var link = item.querySelector("[data-report-link]");
          if (link && answer.outcome !== "too_many") {
            var mark = document.createElement("span");
            mark.className = "reported";
            mark.textContent = reportForm.dataset.reported;
            link.replaceWith(mark);
          }
          var status = item.querySelector("[data-report-status]") || document.createElement("p");
          status.className = "notice report-status";
          status.setAttribute("role", "status");
          status.setAttribute("data-report-status", "");
          status.tabIndex = -1;
          status.textContent = reportForm.dataset[said];
          item.appendChild(status);
          status.focus();
        })
        .catch(function () { reportForm.submit(); });
    });
  }

  // "Older comments" appends the next page in place; the link itself works without JavaScript.
  document.addEventListener("click", function (event) {
    var more = event.target.closest("[data-more-comments]");
    if (!more || !list) return;
    event.preventDefault();
    fetch(more.href, { credentials: "same-origin" })
      .then(function (response) { if (!response.ok) throw response; return response.text(); })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html");
        appendPage(next.querySelectorAll("[data-comment-list] > li"), list,
                   next.querySelector("[data-more-comments]"), more);
      })
      .catch(function () { window.location.href = more.href; });
  });

  // 讚 in place: the shared page's buttons are all unpressed; a browser that has liked before asks
  // the token endpoint which of this article's comments it likes. Without JavaScript each button is
  // a form that flips the like and comes back to the comment.
  var LIKED_KEY = "liked-before";
  var likedIds = [];
  function pressLiked(container) {  // also for a page appended in place (appendPage)
    likedIds.forEach(function (id) {
      container.querySelectorAll("[data-like][action*='/comments/" + id + "/like'] button").forEach(function (button) {
        button.setAttribute("aria-pressed", "true");
      });
    });
  }
  // Each 讚 named for whose comment it likes, after what it shows (「讚 3，老王 的評論」): in a screen
  // reader's list of buttons they all read alike otherwise. The name is the comment's author line.
  var likeStatus = document.querySelector("[data-like-status]");
  function nameLikeButtons(container) {
    var whose = likeStatus && likeStatus.getAttribute("data-whose");
    if (!whose) return;
    container.querySelectorAll("[data-like] button").forEach(function (button) {
      var item = button.closest("li");
      var author = item && item.querySelector(".comment-meta .author");
      if (!author || button.querySelector("[data-whose]")) return;
      var said = document.createElement("span");
      said.className = "visually-hidden";
      said.setAttribute("data-whose", "");
      said.textContent = whose.split("{name}").join(author.textContent.trim());  // a $ in a nickname is no pattern
      button.appendChild(said);
    });
  }
  nameLikeButtons(document);

  var comments = document.querySelector("[data-article]");
  var likedBefore = false;
  try { likedBefore = window.localStorage.getItem(LIKED_KEY) === "1"; } catch (error) { likedBefore = false; }
  if (comments && likedBefore) {
    fetch("/form-token?parts=likes&article=" + encodeURIComponent(comments.getAttribute("data-article")),
          { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { if (!response.ok) throw response; return response.json(); })
      .then(function (state) {
        likedIds = state.liked;
        pressLiked(document);
      })
      .catch(function () { /* the buttons stay as the page drew them */ });
  }

  document.addEventListener("submit", function (event) {
    var likeForm = event.target.closest ? event.target.closest("[data-like]") : null;
    if (!likeForm) {
      return;
    }
    event.preventDefault();
    var button = likeForm.querySelector("button");
    var count = likeForm.querySelector("[data-count]");
    // One request at a time. Not `disabled`: a disabled button drops the keyboard's focus to the page.
    if (button.getAttribute("aria-disabled") === "true") return;
    var body = new FormData(likeForm);
    body.set("like", button.getAttribute("aria-pressed") === "true" ? "0" : "1");
    button.setAttribute("aria-disabled", "true");
    fetch(likeForm.action, { method: "POST", body: body, credentials: "same-origin",
                             headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        button.removeAttribute("aria-disabled");
        if (typeof answer.like_count !== "number") {
          likeForm.submit();  // refused: the server's page says why, in the page's language
          return;
        }
        count.textContent = answer.like_count;
        button.setAttribute("aria-pressed", answer.liked ? "true" : "false");
        // A like kept but not counted (the author's own, or past the address's few): said, not silent.
        var note = likeForm.parentNode.querySelector("[data-like-note]");
        var status = document.querySelector("[data-like-status]");
        if (answer.outcome === "liked" && answer.counted === false && status) {
          if (!note) {
            note = document.createElement("span");
            note.className = "like-note";
            note.setAttribute("data-like-note", "");
            likeForm.parentNode.insertBefore(note, likeForm.nextSibling);
          }
          note.textContent = status.getAttribute("data-uncounted");
          status.textContent = note.textContent;
        } else {
          if (note) note.parentNode.removeChild(note);
          // Said, as the button's pressed state alone is not: liked or not, and the count now.
          if (status) {
            status.textContent = (status.getAttribute(answer.liked ? "data-liked" : "data-unliked") || "")
              .replace("{n}", answer.like_count);
          }
        }
        try { window.localStorage.setItem(LIKED_KEY, "1"); } catch (error) { /* private mode */ }
      })
      .catch(function () { button.removeAttribute("aria-disabled"); likeForm.submit(); });
  });

  // Comments in the reader's script, in place: the page at the link's URL (its own cacheable URL)
  // gives each comment's text; the comments, pressed buttons and loaded pages stay where they are.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-script-converted], [data-script-original]") : null;
    if (!link) {
      return;
    }
    event.preventDefault();
    fetch(link.href, { credentials: "same-origin" })
      .then(function (response) { if (!response.ok) throw response; return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        fresh.querySelectorAll("li[id] > .comment-body").forEach(function (body) {
          var here = document.querySelector("#" + body.parentNode.id + " > .comment-body");
          if (here) {
            here.textContent = body.textContent;
          }
        });
        var toggle = document.querySelector(".script-toggle");
        var freshToggle = fresh.querySelector(".script-toggle");
        if (toggle && freshToggle) {
          toggle.replaceWith(document.importNode(freshToggle, true));
          var next = document.querySelector("[data-script-converted], [data-script-original]");
          if (next) {
            next.focus();
          }
        }
        window.history.replaceState(null, "", link.href);
      })
      .catch(function () { window.location.href = link.href; });
  });
})();
