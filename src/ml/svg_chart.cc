#include "ml/svg_chart.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

namespace assay::ml {
namespace {

// Glyph advance of the chart font (11px DejaVu/Liberation Sans) averaged over lowercase text;
// used only to reserve room for labels, so an estimate suffices.
constexpr double kCharWidth = 6.2;
constexpr int kMaxBarLabelChars = 30;

// SVG coordinates carry one decimal: enough for print, and stable bytes.
std::string Coord(double value) { return FormatFixed(value, 1); }

double NiceNumber(double x, bool round) {
  const double exponent = std::floor(std::log10(x));
  const double fraction = x / std::pow(10.0, exponent);
  double nice = 10;
  if (round) {
    nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  } else {
    nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  }
  return nice * std::pow(10.0, exponent);
}

// The plotted range of one axis and its ticks.
struct AxisRange {
  double lo = 0;
  double hi = 1;
  AxisTicks ticks;
};

AxisRange ResolveAxis(const ChartAxis& axis, double data_lo, double data_hi) {
  const bool have_data = data_lo <= data_hi;
  double lo = axis.min.value_or(have_data ? data_lo : 0.0);
  double hi = axis.max.value_or(have_data ? data_hi : 1.0);
  if (hi < lo) std::swap(lo, hi);
  AxisRange range;
  range.ticks = NiceTicks(lo, hi, 6);
  // A fixed end stays exactly where the caller put it; a free end extends to the nice tick.
  range.lo = axis.min.has_value() ? lo : range.ticks.lo;
  range.hi = axis.max.has_value() ? hi : range.ticks.hi;
  if (range.hi <= range.lo) {
    range.lo = range.ticks.lo;
    range.hi = range.ticks.hi;
  }
  const double slack = (range.hi - range.lo) * 1e-9;
  std::vector<double> inside;
  for (double tick : range.ticks.values) {
    if (tick >= range.lo - slack && tick <= range.hi + slack) inside.push_back(tick);
  }
  range.ticks.values = std::move(inside);
  return range;
}

std::string Shorten(const std::string& label, size_t max_chars) {
  if (label.size() <= max_chars) return label;
  // Cut on a UTF-8 character boundary (never inside a multi-byte sequence).
  size_t cut = max_chars - 3;
  while (cut > 0 && (static_cast<unsigned char>(label[cut]) & 0xC0) == 0x80) --cut;
  return label.substr(0, cut) + "...";
}

void OpenSvg(std::string* out, int width, int height, const std::string& title) {
  *out += "<svg class=\"chart\" viewBox=\"0 0 " + std::to_string(width) + " " +
          std::to_string(height) + "\" width=\"" + std::to_string(width) + "\" height=\"" +
          std::to_string(height) + "\" role=\"img\" font-family=\"DejaVu Sans, Liberation Sans, " +
          "Arial, sans-serif\" font-size=\"11\">";
  *out += "<title>" + EscapeMarkup(title) + "</title>";
}

void Line(std::string* out, double x1, double y1, double x2, double y2, std::string_view stroke,
          std::string_view extra = "") {
  *out += "<line x1=\"" + Coord(x1) + "\" y1=\"" + Coord(y1) + "\" x2=\"" + Coord(x2) + "\" y2=\"" +
          Coord(y2) + "\" stroke=\"" + std::string(stroke) + "\"";
  if (!extra.empty()) *out += " " + std::string(extra);
  *out += "/>";
}

void Text(std::string* out, double x, double y, std::string_view anchor, const std::string& text,
          std::string_view extra = "") {
  *out += "<text x=\"" + Coord(x) + "\" y=\"" + Coord(y) + "\" text-anchor=\"" +
          std::string(anchor) + "\"";
  if (!extra.empty()) *out += " " + std::string(extra);
  *out += ">" + EscapeMarkup(text) + "</text>";
}

}  // namespace

std::string EscapeMarkup(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string FormatFixed(double value, int decimals) {
  if (!std::isfinite(value)) return "n/a";
  decimals = std::clamp(decimals, 0, 12);
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  std::string text(buffer);
  if (!text.empty() && text[0] == '-' && text.find_first_not_of("0.", 1) == std::string::npos) {
    text.erase(0, 1);
  }
  return text;
}

std::string_view PaletteColor(int index) {
  static constexpr std::array<std::string_view, 8> kPalette = {
      "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"};
  const int size = static_cast<int>(kPalette.size());
  return kPalette[static_cast<size_t>(((index % size) + size) % size)];
}

AxisTicks NiceTicks(double lo, double hi, int target_count) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) {
    lo = 0;
    hi = 1;
  }
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) {
    const double delta = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= delta;
    hi += delta;
  }
  target_count = std::max(target_count, 2);
  AxisTicks ticks;
  const double range = NiceNumber(hi - lo, false);
  ticks.step = NiceNumber(range / (target_count - 1), true);
  // The epsilon keeps 0.6 / 0.2 = 2.9999999999999996 from adding a needless extra step.
  ticks.lo = std::floor(lo / ticks.step + 1e-9) * ticks.step;
  ticks.hi = std::ceil(hi / ticks.step - 1e-9) * ticks.step;
  ticks.decimals = std::clamp(static_cast<int>(-std::floor(std::log10(ticks.step))), 0, 12);
  const int count = static_cast<int>(std::lround((ticks.hi - ticks.lo) / ticks.step));
  for (int i = 0; i <= count; ++i) ticks.values.push_back(ticks.lo + i * ticks.step);
  return ticks;
}

std::string XyChart(const XyChartOptions& options, const std::vector<ChartSeries>& series) {
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo;
  double y_lo = x_lo, y_hi = -x_lo;
  for (const ChartSeries& one : series) {
    for (const ChartPoint& point : one.points) {
      if (!std::isfinite(point.x) || !std::isfinite(point.y)) continue;
      x_lo = std::min(x_lo, point.x);
      x_hi = std::max(x_hi, point.x);
      y_lo = std::min(y_lo, point.y);
      y_hi = std::max(y_hi, point.y);
    }
  }
  if (options.horizontal_reference.has_value() && y_lo <= y_hi) {
    y_lo = std::min(y_lo, *options.horizontal_reference);
    y_hi = std::max(y_hi, *options.horizontal_reference);
  }
  const AxisRange x_axis = ResolveAxis(options.x, x_lo, x_hi);
  const AxisRange y_axis = ResolveAxis(options.y, y_lo, y_hi);

  bool has_legend = false;
  for (const ChartSeries& one : series) has_legend = has_legend || !one.name.empty();
  const double left = 58, right = 16, top = has_legend ? 30 : 14, bottom = 44;
  const double plot_w = options.width - left - right;
  const double plot_h = options.height - top - bottom;
  auto px = [&](double x) { return left + (x - x_axis.lo) / (x_axis.hi - x_axis.lo) * plot_w; };
  auto py = [&](double y) {
    return top + plot_h - (y - y_axis.lo) / (y_axis.hi - y_axis.lo) * plot_h;
  };
  // Points outside a fixed range are clamped to the frame instead of drawn across the axes.
  auto cx = [&](double x) { return std::clamp(px(x), left, left + plot_w); };
  auto cy = [&](double y) { return std::clamp(py(y), top, top + plot_h); };

  std::string out;
  OpenSvg(&out, options.width, options.height, options.title);
  // Grid and ticks.
  for (double tick : x_axis.ticks.values) {
    Line(&out, px(tick), top, px(tick), top + plot_h, "#e3e3e3");
    Line(&out, px(tick), top + plot_h, px(tick), top + plot_h + 4, "#333");
    Text(&out, px(tick), top + plot_h + 16, "middle", FormatFixed(tick, x_axis.ticks.decimals));
  }
  for (double tick : y_axis.ticks.values) {
    Line(&out, left, py(tick), left + plot_w, py(tick), "#e3e3e3");
    Line(&out, left - 4, py(tick), left, py(tick), "#333");
    Text(&out, left - 7, py(tick) + 4, "end", FormatFixed(tick, y_axis.ticks.decimals));
  }
  out += "<rect x=\"" + Coord(left) + "\" y=\"" + Coord(top) + "\" width=\"" + Coord(plot_w) +
         "\" height=\"" + Coord(plot_h) + "\" fill=\"none\" stroke=\"#333\"/>";
  Text(&out, left + plot_w / 2, options.height - 8, "middle", options.x.label);
  out += "<text transform=\"translate(14 " + Coord(top + plot_h / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + EscapeMarkup(options.y.label) + "</text>";

  // Reference lines.
  if (options.diagonal) {
    const double lo = std::max(x_axis.lo, y_axis.lo);
    const double hi = std::min(x_axis.hi, y_axis.hi);
    if (lo < hi) {
      Line(&out, px(lo), py(lo), px(hi), py(hi), "#777", "stroke-dasharray=\"4 3\"");
    }
  }
  if (options.horizontal_reference.has_value()) {
    const double y = *options.horizontal_reference;
    if (y >= y_axis.lo && y <= y_axis.hi) {
      Line(&out, left, py(y), left + plot_w, py(y), "#777", "stroke-dasharray=\"4 3\"");
    }
  }

  // Series.
  for (const ChartSeries& one : series) {
    const std::string color(PaletteColor(one.color));
    if (one.style != SeriesStyle::kMarkers) {
      std::string path;
      for (const ChartPoint& point : one.points) {
        if (!std::isfinite(point.x) || !std::isfinite(point.y)) continue;
        path += path.empty() ? "M" : " L";
        path += Coord(cx(point.x));
        path += ' ';
        path += Coord(cy(point.y));
      }
      if (!path.empty()) {
        out += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + color +
               "\" stroke-width=\"2\"" + (one.dashed ? " stroke-dasharray=\"6 3\"" : "") + "/>";
      }
    }
    if (one.style != SeriesStyle::kLine) {
      out += "<g fill=\"" + color + "\" fill-opacity=\"0.65\">";
      for (const ChartPoint& point : one.points) {
        if (!std::isfinite(point.x) || !std::isfinite(point.y)) continue;
        out += "<circle cx=\"" + Coord(cx(point.x)) + "\" cy=\"" + Coord(cy(point.y)) +
               "\" r=\"2.5\"/>";
      }
      out += "</g>";
    }
  }

  // Legend: one row above the plot.
  double legend_x = left;
  for (const ChartSeries& one : series) {
    if (one.name.empty()) continue;
    const std::string color(PaletteColor(one.color));
    if (one.style == SeriesStyle::kMarkers) {
      out +=
          "<circle cx=\"" + Coord(legend_x + 9) + "\" cy=\"12\" r=\"3\" fill=\"" + color + "\"/>";
    } else {
      Line(&out, legend_x, 12, legend_x + 18, 12, color,
           one.dashed ? "stroke-width=\"2\" stroke-dasharray=\"6 3\"" : "stroke-width=\"2\"");
    }
    Text(&out, legend_x + 23, 16, "start", one.name);
    legend_x += 36 + kCharWidth * static_cast<double>(one.name.size());
  }
  out += "</svg>";
  return out;
}

std::string HorizontalBarChart(const BarChartOptions& options, const std::vector<Bar>& bars) {
  size_t longest = 1;
  double lo = 0, hi = 0;
  for (const Bar& bar : bars) {
    longest = std::max(longest, std::min(bar.label.size(), size_t{kMaxBarLabelChars}));
    if (!std::isfinite(bar.value)) continue;
    lo = std::min(lo, bar.value);
    hi = std::max(hi, bar.value);
  }
  const AxisRange axis = ResolveAxis(ChartAxis{}, lo, hi);
  const double left = 12 + kCharWidth * static_cast<double>(longest), right = 64, top = 6;
  const double row = options.bar_height + 4;
  const double plot_w = options.width - left - right;
  const double plot_h = row * static_cast<double>(bars.size());
  const int height = static_cast<int>(top + plot_h + 40);
  auto px = [&](double x) { return left + (x - axis.lo) / (axis.hi - axis.lo) * plot_w; };

  std::string out;
  OpenSvg(&out, options.width, height, options.title);
  for (double tick : axis.ticks.values) {
    Line(&out, px(tick), top, px(tick), top + plot_h, "#e3e3e3");
    Line(&out, px(tick), top + plot_h, px(tick), top + plot_h + 4, "#333");
    Text(&out, px(tick), top + plot_h + 16, "middle", FormatFixed(tick, axis.ticks.decimals));
  }
  const std::string color(PaletteColor(options.color));
  for (size_t index = 0; index < bars.size(); ++index) {
    const Bar& bar = bars[index];
    const double y = top + row * static_cast<double>(index) + 2;
    const std::string label = Shorten(bar.label, kMaxBarLabelChars);
    out += "<g>";
    if (label != bar.label) out += "<title>" + EscapeMarkup(bar.label) + "</title>";
    Text(&out, left - 6, y + options.bar_height / 2.0 + 4, "end", label);
    if (std::isfinite(bar.value)) {
      const double x0 = px(std::min(0.0, bar.value));
      const double x1 = px(std::max(0.0, bar.value));
      out += "<rect x=\"" + Coord(x0) + "\" y=\"" + Coord(y) + "\" width=\"" +
             Coord(std::max(x1 - x0, 0.5)) + "\" height=\"" + std::to_string(options.bar_height) +
             "\" fill=\"" + color + "\"/>";
      Text(&out, px(std::max(0.0, bar.value)) + 4, y + options.bar_height / 2.0 + 4, "start",
           FormatFixed(bar.value, options.value_decimals));
    }
    out += "</g>";
  }
  Line(&out, px(0), top, px(0), top + plot_h, "#333");
  Line(&out, left, top + plot_h, left + plot_w, top + plot_h, "#333");
  Text(&out, left + plot_w / 2, height - 8, "middle", options.value_label);
  out += "</svg>";
  return out;
}

}  // namespace assay::ml
