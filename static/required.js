/* Every page, the embedded frame's included: a required field left empty (or only spaces, which
   `required` lets through) is said in the page's language (data-required-message), not in the
   browser's ("Please fill out this field." on a Chinese page); and Ctrl+Enter (⌘+Enter) in a text
   box sends its form by the form's main button, as in Discourse and chat apps. No dependencies. */
(function () {
  "use strict";
  // The message for a text of spaces alone (`required` takes it for typed), else "".
  function onlySpaces(field) {
    return field.value && !field.value.trim() ? field.getAttribute("data-required-message") || "" : "";
  }
  window.requiredFields = { onlySpaces: onlySpaces };  // reader.js's counter says it too
  document.querySelectorAll("[data-required-message]").forEach(function (field) {
    var message = field.getAttribute("data-required-message");
    var radio = field.type === "radio";
    function blank() {
      return radio ? !field.form.querySelector("input[name='" + field.name + "']:checked") : !field.value.trim();
    }
    field.addEventListener("invalid", function () { if (blank()) field.setCustomValidity(message); });
    var group = radio ? field.form.querySelectorAll("input[name='" + field.name + "']") : [field];
    Array.prototype.forEach.call(group, function (member) {
      member.addEventListener(radio ? "change" : "input", function () {
        field.setCustomValidity(radio ? "" : onlySpaces(field));  // a choice made is never blank
      });
    });
    if (!radio) field.setCustomValidity(onlySpaces(field));
  });
  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || !box.matches || !box.matches("textarea") || !box.form) return;
    event.preventDefault();
    // The main button names what is sent (the comment form's `action=post`): not a bare submit.
    box.form.requestSubmit(box.form.querySelector("button.primary") || undefined);
  });
})();
