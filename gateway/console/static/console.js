// Small progressive enhancements; every form works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // This file is a deferred script: DOMContentLoaded fires after every deferred script (Chart.js included) ran.
  function onReady(fn) { document.addEventListener("DOMContentLoaded", fn); }

  // A <select class="js-autosubmit"> submits its form when changed (its button stays for no-JS use).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.classList && target.classList.contains("js-autosubmit") && target.form) target.form.submit();
  });

  // "Remove these characters" (offered when a character forces UCS-2 and has no GSM-7 look-alike): strip them
  // from the text and let htmx count it again.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-remove-chars]");
    if (!button) return;
    var field = document.getElementById(button.dataset.target);
    if (!field) return;
    var drop = Array.from(button.dataset.removeChars);
    field.value = Array.from(field.value).filter(function (c) { return drop.indexOf(c) < 0; }).join("");
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.focus();
  });

  var PALETTE = ["#0b4f8a", "#b3541e", "#1b6b2f", "#6b3fa0", "#5f6b7a"];

  function drawCharts(root) {
    if (typeof window.Chart === "undefined") return;
    window.Chart.defaults.color = "#1b1f24";
    window.Chart.defaults.font.size = 13;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      canvas.dataset.drawn = "1";
      var kind = canvas.dataset.chart;
      var labels = JSON.parse(canvas.dataset.labels || "[]");
      var series = JSON.parse(canvas.dataset.series || "[]");
      var horizontal = canvas.dataset.horizontal === "true";
      var colors = JSON.parse(canvas.dataset.colors || "null") || PALETTE;
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: labels,
          datasets: series.map(function (s, i) {
            return { label: s[0], data: s[1], backgroundColor: colors[i % colors.length] };
          })
        },
        options: {
          indexAxis: horizontal ? "y" : "x",
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: series.length > 1 } },
          scales: {
            x: { stacked: kind === "stacked", beginAtZero: true, ticks: { precision: 0 } },
            y: { stacked: kind === "stacked", beginAtZero: true, ticks: { precision: 0 } }
          }
        }
      });
    });
  }

  onReady(function () { drawCharts(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawCharts(event.target); });
})();
