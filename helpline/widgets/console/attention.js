// Drawing the counsellor's attention: a count in the page's title and a short beep.
import { t } from "./i18n.js";
import { state } from "./state.js";

let audio = null;

export function alertUser() {
  state.attention += 1;
  updateTitle();
  if (!state.sound) return;
  try {
    audio = audio || new AudioContext();
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.2, audio.currentTime + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.3);
  } catch {
    // No audio output: the badge is enough.
  }
}

export function clearAttention() {
  if (!state.attention) return;
  state.attention = 0;
  updateTitle();
}

export function updateTitle() {
  const base = t("app_title");
  document.title = state.badge && state.attention ? `(${state.attention}) ${base}` : base;
}
