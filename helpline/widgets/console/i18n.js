// Every string of the console, French first, then English: the [console] table of the
// catalogs (helpline/locales/fr.toml, en.toml). t("key", {n: 2}) fills {n}.
export const CATALOG = "__HELPLINE_CATALOG__"; // filled in by the server

let current = "fr";

export function setLocale(locale) {
  current = CATALOG[locale] ? locale : "fr";
  document.documentElement.lang = current;
}

export function locale() {
  return current;
}

export function t(key, values = {}) {
  const text = CATALOG[current][key] ?? CATALOG.fr[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

// "2e", "3e" in French; "2nd", "3rd", "11th" in English.
export function ordinal(n) {
  if (current !== "en") return `${n}e`;
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th");
  return `${n}${suffix}`;
}

export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? t("seconds", { n: s }) : t("minutes", { n: Math.floor(s / 60) });
}
