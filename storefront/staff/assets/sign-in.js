import { initPage, showMessage, showProblem, t } from '/assets/core.js';
import { forgetSession, signIn } from './staff.js';

initPage();
const params = new URLSearchParams(location.search);
const message = document.getElementById('message');
const form = document.getElementById('signin-form');
const button = document.getElementById('signin-button');
if (params.get('reason') === 'signed-out') showMessage(message, 'info', t('staff.signed_out'));
if (params.get('reason') === 'expired') showMessage(message, 'warning', t('problem.not-authenticated'));
document.getElementById('username').focus();

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  button.disabled = true;
  try {
    forgetSession();
    await signIn(form.username.value.trim(), form.password.value);
    const next = params.get('next');
    location.assign(next && next.startsWith('/') && !next.startsWith('//') ? next : '/staff/index.html');
  } catch (error) {
    if (error?.status === 401) showMessage(message, 'error', t('staff.wrong_password'));
    else showProblem(message, error);
    form.password.value = '';
    form.password.focus();
  } finally {
    button.disabled = false;
  }
});
