// Progressive enhancement only: every control below also works as a plain form without JavaScript.
(function () {
  "use strict";

  var toggle = document.querySelector("[data-pinyin-toggle]");
  if (toggle) {
    toggle.addEventListener("submit", function (event) {
      event.preventDefault();
      document.body.classList.toggle("pinyin-hidden");
      fetch(toggle.action, { method: "POST", body: new FormData(toggle), credentials: "same-origin", redirect: "manual" });
    });
  }

  var form = document.querySelector("[data-comment-form]");
  if (!form) return;
  var idField = form.querySelector("[data-captcha-id]");
  var media = form.querySelector("[data-captcha-media]");
  var answer = form.querySelector("#captcha_answer");

  function swapChallenge(useAudio) {
    return fetch("/captcha/new", { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { if (!response.ok) throw response; return response.json(); })
      .then(function (challenge) {
        idField.value = challenge.id;
        answer.value = "";
        media.textContent = "";
        if (useAudio) {
          var audio = document.createElement("audio");
          audio.controls = true;
          audio.preload = "none";
          audio.src = challenge.audio;
          audio.setAttribute("aria-label", "語音驗證碼（英文字母與數字）");
          media.appendChild(audio);
          audio.play().catch(function () {});
        } else {
          var image = document.createElement("img");
          image.src = challenge.image;
          image.width = 200;
          image.height = 70;
          image.alt = "驗證碼圖片：請輸入圖中的英文字母或數字；看不清楚可改聽語音";
          media.appendChild(image);
        }
        answer.focus();
      });
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-captcha-new], [data-captcha-audio]");
    if (!button) return;
    event.preventDefault();
    var useAudio = button.hasAttribute("data-captcha-audio");
    swapChallenge(useAudio).catch(function () {
      // Fall back to the server-rendered path (keeps what the reader typed).
      var action = document.createElement("input");
      action.type = "hidden"; action.name = "action"; action.value = useAudio ? "audio" : "new_captcha";
      form.appendChild(action);
      form.submit();
    });
  });
})();
