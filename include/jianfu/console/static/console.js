// Draw every chart of the page with the Vega bundle served beside this file (no network).
(function () {
  "use strict";
  document.querySelectorAll("figure.chart[data-spec]").forEach(function (figure) {
    var source = document.getElementById(figure.getAttribute("data-spec"));
    if (!source || typeof vegaEmbed !== "function") { return; }
    var spec = JSON.parse(source.textContent);
    // The bulletin draws at a fixed width; a page fits its panel instead (faceted grids keep their cells).
    if (typeof spec.width === "number" && !spec.facet) {
      spec.width = "container";
      spec.autosize = { type: "fit-x", contains: "padding" };
    }
    vegaEmbed(figure, spec, { mode: "vega-lite", actions: false, renderer: "svg" }).then(function () {
      figure.setAttribute("data-drawn", "1");
    }).catch(function (err) {
      figure.textContent = "图表无法显示 / chart could not be drawn: " + err;
    });
  });
})();
