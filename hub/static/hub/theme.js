/* Light or dark (templates/base.html): the visitor's choice from the toggle, kept in localStorage,
 * else the system's. Loaded in <head> before the styles, so that the first paint is already right. */
(function () {
  "use strict";
  const KEY = "hub.theme";
  const system = window.matchMedia("(prefers-color-scheme: dark)");
  let chosen = null; // the toggle's choice when localStorage is unavailable

  function stored() {
    try {
      return localStorage.getItem(KEY);
    } catch (error) {
      return chosen; // storage disabled: the choice lasts as long as the page
    }
  }

  function apply() {
    const theme = stored() || (system.matches ? "dark" : "light");
    document.documentElement.dataset.bsTheme = theme === "dark" ? "dark" : "light";
  }

  function toggle() {
    chosen = document.documentElement.dataset.bsTheme === "dark" ? "light" : "dark";
    try {
      localStorage.setItem(KEY, chosen);
    } catch (error) {
      console.info("theme: localStorage unavailable, the choice lasts for this page only");
    }
    apply();
  }

  apply();
  system.addEventListener("change", apply);
  window.addEventListener("storage", (event) => event.key === KEY && apply());
  document.addEventListener("DOMContentLoaded", () => {
    const button = document.getElementById("theme-toggle");
    if (button) button.addEventListener("click", toggle);
  });
})();
