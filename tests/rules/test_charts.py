"""Server-side SVG charts: text is escaped, the axis always reaches the tallest column in four even steps."""

from hypothesis import given
from hypothesis import strategies as st

from core import charts


@given(st.integers(min_value=0, max_value=10**15))
def test_the_axis_maximum_reaches_the_value_in_four_whole_steps(value: int) -> None:
    ceiling = charts._nice_ceiling(value)
    assert ceiling >= value and ceiling % 4 == 0 and ceiling > 0


def test_labels_are_escaped_and_every_bar_is_drawn() -> None:
    svg = charts.bar_chart(
        [charts.Bar("<花垣县>", 87.5, "87.5%"), charts.Bar("吉首市&", 0, "0%")], title="覆盖率", max_value=100
    )
    assert "&lt;花垣县&gt;" in svg and "吉首市&amp;" in svg and "<script" not in svg
    assert svg.count('fill="#b42318"') == 2 and "<title>覆盖率</title>" in svg


def test_a_stacked_column_per_category_with_one_legend_entry_per_series() -> None:
    svg = charts.column_chart(
        ["1月", "2月"],
        [charts.Series("补充医疗", [100, 0]), charts.Series("意外医疗", [50, -5])],
        title="赔款",
        unit="元",
    )
    assert svg.count("<rect") == 2 + 2  # January's two parts (February's zero and negative are not drawn), legend
    assert "1月 补充医疗 100元" in svg and ">2月<" in svg
