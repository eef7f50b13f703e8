// Draw every chart of the page with the Vega bundle served beside this file (no network).
(function () {
  "use strict";
  document.querySelectorAll("figure.chart[data-spec]").forEach(function (figure) {
    var source = document.getElementById(figure.getAttribute("data-spec"));
    if (!source || typeof vegaEmbed !== "function") { return; }
    var spec = JSON.parse(source.textContent);
    vegaEmbed(figure, spec, { mode: "vega-lite", actions: false, renderer: "svg" }).then(function () {
      figure.setAttribute("data-drawn", "1");
    }).catch(function (err) {
      figure.textContent = "图表无法显示 / chart could not be drawn: " + err;
    });
  });
})();
