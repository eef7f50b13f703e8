"""The shared chart descriptions (jianfu.charts): valid Vega-Lite, drawn offline to SVG with the data shown."""

from __future__ import annotations

import json

from jianfu import charts

CELLS = [
    {"county_code": "421127", "county_name": "黄梅县", "kind": "form_counts", "period": "2026-09", "status": "accepted"},
    {"county_code": "421127", "county_name": "黄梅县", "kind": "form_counts", "period": "2026-10", "status": "late"},
    {"county_code": "140425", "county_name": "平顺县", "kind": "form_counts", "period": "2026-10", "status": "missing"},
    {"county_code": "421127", "county_name": "黄梅县", "kind": "inspections", "period": "2026", "status": "rejected"},
]


def test_collection_grid_colours_each_status_and_names_counties():
    chart = charts.collection_grid(CELLS)

    text = charts.svg(chart)
    spec = charts.spec(chart)

    assert "黄梅县 421127" in text and "平顺县 140425" in text
    for status in ("accepted", "late", "missing", "rejected"):
        assert charts.STATUS_COLOURS[status] in text
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")


def test_english_labels_switch():
    chart = charts.collection_grid(CELLS, lang="en")

    text = charts.svg(chart)

    assert "late" in text and "逾期" not in text


def test_quota_usage_marks_exceeded_and_warning():
    rows = [
        {"dept_code": "421127-AGRI", "dept_name": "农业农村局", "used": 3, "quota": 2, "status": "exceeded"},
        {"dept_code": "421127-EDU", "dept_name": "教育局", "used": 4, "quota": 5, "status": "warning"},
        {"dept_code": "421127-ENV", "dept_name": "生态环境局", "used": 1, "quota": 5, "status": "ok"},
    ]

    text = charts.svg(charts.quota_usage(rows))

    assert "农业农村局 421127-AGRI" in text
    assert charts.QUOTA_COLOURS["exceeded"] in text and charts.QUOTA_COLOURS["warning"] in text
    assert "超出上限" in text


def test_ranking_keeps_the_top_units_longest_first():
    rows = [{"unit_code": f"42112710{i}000", "unit_name": f"镇{i}", "fills": i} for i in range(30)]

    spec = charts.spec(charts.township_ranking(rows, top=5))

    values = spec["datasets"][spec["data"]["name"]]
    assert [v["value"] for v in values] == [29, 28, 27, 26, 25]


def test_flags_and_trend_draw():
    by_rule = charts.flags_by_rule([{"rule": "GROUP_ZOMBIE", "count": 3}, {"rule": "FORM_OVER_FREQUENCY", "count": 1}])
    by_county = charts.flags_by_county([{"county_code": "421127", "county_name": "黄梅县", "rule": "GROUP_ZOMBIE",
                                         "count": 3}])
    trend = charts.monthly_trend([{"period": "2026-09", "series": "fills", "value": 3},
                                  {"period": "2026-10", "series": "fills", "value": 5}])

    assert "僵尸工作群" in charts.svg(by_rule)
    assert charts.rule_label("GROUP_ZOMBIE", "en") == "zombie work group GROUP_ZOMBIE"
    assert "黄梅县 421127" in charts.svg(by_county)
    assert "2026-10" in charts.svg(trend)


def test_spec_json_cannot_close_a_script_element():
    chart = charts.flags_by_rule([{"rule": "</script><script>alert(1)</script>", "count": 1}])

    text = charts.spec_json(chart)

    described = json.loads(text)
    assert "</script>" not in text
    assert described["datasets"][described["data"]["name"]][0]["rule"].startswith("</script>")
