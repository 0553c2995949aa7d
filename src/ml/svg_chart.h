// Small inline-SVG chart writer for the model document (model_report.h): an x/y chart (lines,
// markers, optional y = x diagonal and horizontal reference line) and a horizontal bar chart,
// with axes, "nice" ticks, grid lines and a legend. The output is an <svg> element meant to be
// embedded in HTML5 (no xmlns, no scripts, no external fonts or references). Every label is
// escaped here, so callers pass plain text. Output is deterministic: numbers are printed with
// fixed precision in the "C" locale (std::snprintf is locale-independent unless the program
// calls setlocale, which Assay never does).
//
// Stateless pure functions: thread-safe.
#ifndef ASSAY_ML_SVG_CHART_H_
#define ASSAY_ML_SVG_CHART_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace assay::ml {

// Escapes &, <, >, " and ' so `text` is safe as HTML/SVG text content or a quoted attribute.
std::string EscapeMarkup(std::string_view text);

// `value` with exactly `decimals` digits after the point (0 <= decimals <= 12); a result that
// rounds to zero never carries a minus sign ("-0.00" becomes "0.00"). Non-finite values are
// printed as "n/a".
std::string FormatFixed(double value, int decimals);

// The colour-blind-safe qualitative palette of Okabe & Ito ("Color Universal Design", 2008),
// ordered so the first entries contrast most with white paper and with each other in
// greyscale print. The index wraps around.
std::string_view PaletteColor(int index);

// Axis ticks by Heckbert's "nice numbers" ("Nice Numbers for Graph Labels", Graphics Gems,
// 1990): the range [lo, hi] is widened to multiples of a step of 1, 2 or 5 times a power of
// ten, giving about `target_count` ticks. `decimals` is the number of fraction digits that
// shows every tick exactly. If lo == hi the range is widened around the value.
struct AxisTicks {
  double lo = 0;
  double hi = 1;
  double step = 0.2;
  int decimals = 1;
  std::vector<double> values;
};
AxisTicks NiceTicks(double lo, double hi, int target_count = 5);

struct ChartPoint {
  double x = 0;
  double y = 0;
};

enum class SeriesStyle { kLine, kMarkers, kLineAndMarkers };

struct ChartSeries {
  std::string name;  // legend entry; an empty name is left out of the legend
  std::vector<ChartPoint> points;
  SeriesStyle style = SeriesStyle::kLine;
  bool dashed = false;
  int color = 0;  // PaletteColor index
};

struct ChartAxis {
  std::string label;
  // A fixed range (e.g. [0, 1] for rates); unset ends come from the data, widened to nice
  // ticks.
  std::optional<double> min;
  std::optional<double> max;
};

struct XyChartOptions {
  std::string title;  // the chart's accessible name (<title>), not drawn
  ChartAxis x;
  ChartAxis y;
  int width = 480;
  int height = 360;
  bool diagonal = false;                       // a dashed y = x reference line
  std::optional<double> horizontal_reference;  // a dashed y = value reference line
};

// An x/y chart of `series` with both axes, ticks, grid and a legend (if any series is named).
// Non-finite points are skipped. With no finite point at all, the axes span their fixed range
// or [0, 1].
std::string XyChart(const XyChartOptions& options, const std::vector<ChartSeries>& series);

struct Bar {
  std::string label;
  double value = 0;
};

struct BarChartOptions {
  std::string title;        // accessible name (<title>)
  std::string value_label;  // the value axis label, drawn below the bars
  int width = 640;
  int bar_height = 18;
  int color = 0;           // PaletteColor index
  int value_decimals = 4;  // digits of the value printed at the end of each bar
};

// A horizontal bar chart, one bar per entry in the given order, labels on the left (labels
// longer than 30 characters are shortened with "..." and kept whole in a <title> tooltip).
// Bars start at zero, so negative values extend to the left. Non-finite values draw no bar.
std::string HorizontalBarChart(const BarChartOptions& options, const std::vector<Bar>& bars);

}  // namespace assay::ml

#endif  // ASSAY_ML_SVG_CHART_H_
