// The SAML HTTP-POST binding carries a message in a form that the browser
// posts to the other party. This script submits it as soon as the page
// loads; without it, the citizen presses the form's button.
const form = document.querySelector("form[data-saml-autosubmit]");
if (form) {
  form.submit();
}
