// Prepare processors over text: find_replace, string_transform, extract, split, concat.
// Regular expressions are RE2 (linear time, no backtracking); Unicode case mapping, accent
// stripping and whitespace classes come from utf8proc. Each column reuses its scratch buffers,
// so no value allocates in the loops.
#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "common/thread_pool.h"
#include "re2/re2.h"
#include "recipes/prepare_processor.h"
#include "utf8proc.h"

namespace assay::recipes {
namespace {

absl::Status RequireStrings(const Schema& schema, const std::vector<int>& indexes) {
  for (int index : indexes) {
    ASSAY_RETURN_IF_ERROR(
        RequireType(schema, index, {DataType::kString}, "cast it to string first"));
  }
  return absl::OkStatus();
}

// The indexes of `columns` (the "columns" key), each checked to be a string column.
absl::StatusOr<std::vector<int>> ResolveStringColumns(const Schema& schema,
                                                      const std::vector<std::string>& columns) {
  ASSAY_ASSIGN_OR_RETURN(std::vector<int> indexes, ResolveColumns(schema, columns, "columns"));
  ASSAY_RETURN_IF_ERROR(RequireStrings(schema, indexes));
  return indexes;
}

// Rewrites each string column in `indexes` with transform(text, &out) (columns in parallel);
// counts the cells whose text changed.
template <typename Transform>
Table RewriteStrings(const Table& table, const std::vector<int>& indexes, PrepareStepLog& log,
                     const Transform& transform) {
  TableEdit edit = TableEdit::From(table);
  std::vector<int64_t> changed(indexes.size(), 0);
  common::ThreadPool::Default().ParallelFor(static_cast<int64_t>(indexes.size()),
                                            [&](int64_t task) {
                                              const Column& column = table.column(indexes[task]);
                                              ColumnBuilder builder(DataType::kString);
                                              builder.Reserve(column.size());
                                              std::string out;
                                              for (int64_t row = 0; row < column.size(); ++row) {
                                                if (column.IsNull(row)) {
                                                  builder.AppendNull();
                                                  continue;
                                                }
                                                const std::string_view text = column.StringAt(row);
                                                out.clear();
                                                transform(text, &out);
                                                changed[task] += out != text;
                                                builder.AppendString(out);
                                              }
                                              edit.columns[indexes[task]] = builder.Finish();
                                            });
  log.cells_changed = 0;
  for (int64_t count : changed) log.cells_changed += count;
  return *std::move(edit).Build();
}

// ---- find_replace ------------------------------------------------------------------------------

class FindReplaceProcessor : public PrepareProcessor {
 public:
  FindReplaceProcessor(std::vector<std::string> columns, std::string find, std::string replace,
                       std::shared_ptr<RE2> regex)
      : columns_(std::move(columns)),
        find_(std::move(find)),
        replace_(std::move(replace)),
        regex_(std::move(regex)) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const std::vector<int> indexes, ResolveStringColumns(input, columns_));
    BoundStep bound;
    bound.output = input;
    bound.apply = [this, indexes](const Table& table, const StepContext&,
                                  PrepareStepLog& log) -> absl::StatusOr<Table> {
      if (regex_ == nullptr) {
        return RewriteStrings(table, indexes, log, [&](std::string_view text, std::string* out) {
          size_t pos = 0;
          while (true) {
            const size_t hit = text.find(find_, pos);
            if (hit == std::string_view::npos) break;
            out->append(text.substr(pos, hit - pos));
            out->append(replace_);
            pos = hit + find_.size();
          }
          out->append(text.substr(pos));
        });
      }
      const int groups = 1 + regex_->NumberOfCapturingGroups();
      return RewriteStrings(table, indexes, log, [&](std::string_view text, std::string* out) {
        re2::StringPiece match[64];
        size_t pos = 0;
        while (pos <= text.size() &&
               regex_->Match(text, pos, text.size(), RE2::UNANCHORED, match, groups)) {
          // An empty match on empty text may report no data pointer; it is at `pos`.
          const size_t start =
              match[0].data() == nullptr ? pos : static_cast<size_t>(match[0].data() - text.data());
          const size_t end = start + match[0].size();
          out->append(text.substr(pos, start - pos));
          regex_->Rewrite(out, replace_, match, groups);
          if (end > start) {
            pos = end;
            continue;
          }
          // An empty match: keep the next character (whole UTF-8 sequence) and move past it,
          // as RE2::GlobalReplace does.
          if (end >= text.size()) {
            pos = text.size() + 1;
            break;
          }
          size_t next = end + 1;
          while (next < text.size() && (static_cast<unsigned char>(text[next]) & 0xC0) == 0x80) {
            ++next;
          }
          out->append(text.substr(end, next - end));
          pos = next;
        }
        if (pos <= text.size()) out->append(text.substr(pos));
      });
    };
    return bound;
  }

 private:
  std::vector<std::string> columns_;
  std::string find_;
  std::string replace_;
  std::shared_ptr<RE2> regex_;  // null for literal mode
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseFindReplace(StepConfig& config) {
  auto columns = config.StringList("columns", "column names");
  auto find = config.String("find");
  auto replace = config.String("replace");
  const std::string mode = config.Choice("mode", {"literal", "regex"}, "literal");
  ASSAY_RETURN_IF_ERROR(config.Finish());
  if (find.empty()) {
    config.Fail("find", "expected a non-empty string");
    return config.Finish();
  }
  std::shared_ptr<RE2> regex;
  if (mode == "regex") {
    ASSAY_ASSIGN_OR_RETURN(regex, CompilePrepareRegex(config, "find", find));
    std::string error;
    if (regex->NumberOfCapturingGroups() >= 63) {
      config.Fail("find", "at most 62 capture groups are supported");
    } else if (!regex->CheckRewriteString(replace, &error)) {
      config.Fail("replace", absl::StrCat("invalid replacement: ", error,
                                          " (\\1..\\9 name groups, \\\\ is a backslash)"));
    }
    ASSAY_RETURN_IF_ERROR(config.Finish());
  }
  return std::make_unique<FindReplaceProcessor>(std::move(columns), std::move(find),
                                                std::move(replace), std::move(regex));
}

// ---- string_transform --------------------------------------------------------------------------

enum class TextOp { kTrim, kLower, kUpper, kNormalizeWhitespace, kStripAccents };

bool IsUnicodeSpace(int32_t c) {
  // The White_Space property: ASCII controls, NEL, the Zs separators, LS and PS.
  return (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0x2028 || c == 0x2029 ||
         utf8proc_category(c) == UTF8PROC_CATEGORY_ZS;
}

class StringTransformProcessor : public PrepareProcessor {
 public:
  StringTransformProcessor(std::vector<std::string> columns, std::vector<TextOp> ops)
      : columns_(std::move(columns)), ops_(std::move(ops)) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const std::vector<int> indexes, ResolveStringColumns(input, columns_));
    BoundStep bound;
    bound.output = input;
    bound.apply = [this, indexes](const Table& table, const StepContext&,
                                  PrepareStepLog& log) -> absl::StatusOr<Table> {
      return RewriteStrings(table, indexes, log, [&](std::string_view text, std::string* out) {
        // thread_local: one scratch buffer per pool thread, reused for every value.
        thread_local std::vector<int32_t> points;
        thread_local std::vector<int32_t> scratch;
        Decode(text, points);
        for (TextOp op : ops_) Apply(op, points, scratch);
        Encode(points, out);
      });
    };
    return bound;
  }

 private:
  // Invalid UTF-8 bytes become U+FFFD, so every later step sees valid code points.
  static void Decode(std::string_view text, std::vector<int32_t>& points) {
    points.clear();
    const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
    auto remaining = static_cast<utf8proc_ssize_t>(text.size());
    while (remaining > 0) {
      utf8proc_int32_t point = 0;
      utf8proc_ssize_t used = utf8proc_iterate(bytes, remaining, &point);
      if (used <= 0) {
        point = 0xFFFD;
        used = 1;
      }
      points.push_back(point);
      bytes += used;
      remaining -= used;
    }
  }

  static void Encode(const std::vector<int32_t>& points, std::string* out) {
    utf8proc_uint8_t buffer[4];
    for (int32_t point : points) {
      const utf8proc_ssize_t size = utf8proc_encode_char(point, buffer);
      out->append(reinterpret_cast<const char*>(buffer), static_cast<size_t>(size));
    }
  }

  static void Trim(std::vector<int32_t>& points) {
    size_t begin = 0;
    size_t end = points.size();
    while (begin < end && IsUnicodeSpace(points[begin])) ++begin;
    while (end > begin && IsUnicodeSpace(points[end - 1])) --end;
    points.erase(points.begin() + static_cast<int64_t>(end), points.end());
    points.erase(points.begin(), points.begin() + static_cast<int64_t>(begin));
  }

  static void Apply(TextOp op, std::vector<int32_t>& points, std::vector<int32_t>& scratch) {
    switch (op) {
      case TextOp::kTrim:
        Trim(points);
        return;
      case TextOp::kLower:
        // Simple (one-to-one) case mapping: "ß" stays "ß" under upper.
        for (int32_t& point : points) point = utf8proc_tolower(point);
        return;
      case TextOp::kUpper:
        for (int32_t& point : points) point = utf8proc_toupper(point);
        return;
      case TextOp::kNormalizeWhitespace: {
        size_t out = 0;
        bool in_space = false;
        for (int32_t point : points) {
          if (IsUnicodeSpace(point)) {
            in_space = true;
            continue;
          }
          if (in_space && out > 0) points[out++] = ' ';
          in_space = false;
          points[out++] = point;
        }
        points.resize(out);
        return;
      }
      case TextOp::kStripAccents: {
        // Canonical decomposition (NFD), drop nonspacing marks (Mn), recompose (NFC): "é" ->
        // "e", while spacing marks of Indic scripts and Hangul syllables survive.
        scratch.clear();
        for (int32_t point : points) {
          utf8proc_int32_t parts[32];
          int boundclass = 0;
          const utf8proc_ssize_t count =
              utf8proc_decompose_char(point, parts, 32, UTF8PROC_DECOMPOSE, &boundclass);
          if (count < 0 || count > 32) {
            scratch.push_back(point);
            continue;
          }
          for (utf8proc_ssize_t i = 0; i < count; ++i) {
            if (utf8proc_category(parts[i]) != UTF8PROC_CATEGORY_MN) scratch.push_back(parts[i]);
          }
        }
        const utf8proc_ssize_t length = utf8proc_normalize_utf32(
            scratch.data(), static_cast<utf8proc_ssize_t>(scratch.size()),
            static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_STABLE));
        if (length >= 0) scratch.resize(static_cast<size_t>(length));
        points.swap(scratch);
        return;
      }
    }
  }

  std::vector<std::string> columns_;
  std::vector<TextOp> ops_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseStringTransform(StepConfig& config) {
  auto columns = config.StringList("columns", "column names");
  auto names = config.StringList("operations",
                                 "operations (trim, lower, upper, normalize_whitespace, "
                                 "strip_accents)");
  ASSAY_RETURN_IF_ERROR(config.Finish());
  std::vector<TextOp> ops;
  for (const std::string& name : names) {
    if (name == "trim") {
      ops.push_back(TextOp::kTrim);
    } else if (name == "lower") {
      ops.push_back(TextOp::kLower);
    } else if (name == "upper") {
      ops.push_back(TextOp::kUpper);
    } else if (name == "normalize_whitespace") {
      ops.push_back(TextOp::kNormalizeWhitespace);
    } else if (name == "strip_accents") {
      ops.push_back(TextOp::kStripAccents);
    } else {
      config.Fail("operations", absl::StrCat("unknown operation ", Quote(name),
                                             "; expected trim, lower, upper, "
                                             "normalize_whitespace or strip_accents"));
      return config.Finish();
    }
  }
  return std::make_unique<StringTransformProcessor>(std::move(columns), std::move(ops));
}

// ---- extract -----------------------------------------------------------------------------------

class ExtractProcessor : public PrepareProcessor {
 public:
  ExtractProcessor(std::string column, std::shared_ptr<RE2> regex,
                   std::optional<std::vector<std::string>> into)
      : column_(std::move(column)), regex_(std::move(regex)), into_(std::move(into)) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const int source, ResolveColumn(input, column_, "column"));
    ASSAY_RETURN_IF_ERROR(RequireStrings(input, {source}));
    const int groups = regex_->NumberOfCapturingGroups();
    std::vector<std::string> names;
    for (int group = 1; group <= groups; ++group) {
      if (into_.has_value()) {
        names.push_back((*into_)[group - 1]);
        continue;
      }
      const auto named = regex_->CapturingGroupNames().find(group);
      names.push_back(named != regex_->CapturingGroupNames().end()
                          ? named->second
                          : absl::StrCat(column_, "_", group));
    }
    std::vector<Field> fields = input.fields();
    for (const std::string& name : names) PutField(fields, name, DataType::kString);
    ASSAY_RETURN_IF_ERROR(CheckUniqueNames(fields, "extract"));
    BoundStep bound;
    bound.output = Schema(fields);
    bound.apply = [this, source, names, groups](const Table& table, const StepContext&,
                                                PrepareStepLog& log) -> absl::StatusOr<Table> {
      const Column& column = table.column(source);
      std::vector<ColumnBuilder> builders(names.size(), ColumnBuilder(DataType::kString));
      for (auto& builder : builders) builder.Reserve(column.size());
      std::vector<re2::StringPiece> match(static_cast<size_t>(groups) + 1);
      int64_t unmatched = 0;
      for (int64_t row = 0; row < column.size(); ++row) {
        const std::string_view text = column.StringAt(row);
        const bool found =
            column.IsValid(row) &&
            regex_->Match(text, 0, text.size(), RE2::UNANCHORED, match.data(), groups + 1);
        unmatched += column.IsValid(row) && !found;
        for (int group = 1; group <= groups; ++group) {
          // A group that took no part in the match has no data pointer.
          if (found && match[group].data() != nullptr) {
            builders[group - 1].AppendString(
                std::string_view(match[group].data(), match[group].size()));
          } else {
            builders[group - 1].AppendNull();
          }
        }
      }
      log.detail = absl::StrCat(column_, ": ", unmatched, " values did not match");
      TableEdit edit = TableEdit::From(table);
      for (size_t i = 0; i < names.size(); ++i) edit.Put(names[i], builders[i].Finish());
      return std::move(edit).Build();
    };
    return bound;
  }

 private:
  std::string column_;
  std::shared_ptr<RE2> regex_;
  std::optional<std::vector<std::string>> into_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseExtract(StepConfig& config) {
  auto column = config.String("column");
  auto pattern = config.String("pattern");
  auto into = config.OptionalStringList("into", "output column names");
  ASSAY_RETURN_IF_ERROR(config.Finish());
  ASSAY_ASSIGN_OR_RETURN(std::shared_ptr<RE2> regex,
                         CompilePrepareRegex(config, "pattern", pattern));
  const int groups = regex->NumberOfCapturingGroups();
  if (groups == 0) {
    config.Fail("pattern", "has no capture group; wrap the part to extract in ( )");
  } else if (into.has_value() && static_cast<int>(into->size()) != groups) {
    config.Fail("into", absl::StrCat("expected ", groups, " names (one per capture group), got ",
                                     into->size()));
  }
  ASSAY_RETURN_IF_ERROR(config.Finish());
  return std::make_unique<ExtractProcessor>(std::move(column), std::move(regex), std::move(into));
}

// ---- split -------------------------------------------------------------------------------------

class SplitProcessor : public PrepareProcessor {
 public:
  SplitProcessor(std::string column, std::string delimiter, std::vector<std::string> names,
                 bool drop_source)
      : column_(std::move(column)),
        delimiter_(std::move(delimiter)),
        names_(std::move(names)),
        drop_source_(drop_source) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const int source, ResolveColumn(input, column_, "column"));
    ASSAY_RETURN_IF_ERROR(RequireStrings(input, {source}));
    std::vector<Field> fields = input.fields();
    if (drop_source_) fields.erase(fields.begin() + source);
    for (const std::string& name : names_) {
      if (name == column_ && !drop_source_) {
        return absl::InvalidArgumentError(
            absl::StrCat("output column ", Quote(name),
                         " is the split column; set drop_source: true or choose another name"));
      }
      PutField(fields, name, DataType::kString);
    }
    ASSAY_RETURN_IF_ERROR(CheckUniqueNames(fields, "split"));
    BoundStep bound;
    bound.output = Schema(fields);
    bound.apply = [this, source](const Table& table, const StepContext&,
                                 PrepareStepLog& log) -> absl::StatusOr<Table> {
      const Column& column = table.column(source);
      std::vector<ColumnBuilder> builders(names_.size(), ColumnBuilder(DataType::kString));
      for (auto& builder : builders) builder.Reserve(column.size());
      int64_t overflow = 0;
      for (int64_t row = 0; row < column.size(); ++row) {
        size_t part = 0;
        if (column.IsValid(row)) {
          std::string_view text = column.StringAt(row);
          // The last column takes the rest of the text, so nothing is lost.
          for (; part + 1 < names_.size(); ++part) {
            const size_t hit = text.find(delimiter_);
            if (hit == std::string_view::npos) break;
            builders[part].AppendString(text.substr(0, hit));
            text.remove_prefix(hit + delimiter_.size());
          }
          overflow += part + 1 == names_.size() && text.find(delimiter_) != std::string::npos;
          builders[part++].AppendString(text);
        }
        for (; part < names_.size(); ++part) builders[part].AppendNull();
      }
      log.detail = absl::StrCat(column_, ": ", overflow,
                                " values had more parts than columns (rest kept in the last)");
      TableEdit edit = TableEdit::From(table);
      if (drop_source_) {
        edit.fields.erase(edit.fields.begin() + source);
        edit.columns.erase(edit.columns.begin() + source);
      }
      for (size_t i = 0; i < names_.size(); ++i) edit.Put(names_[i], builders[i].Finish());
      return std::move(edit).Build();
    };
    return bound;
  }

 private:
  std::string column_;
  std::string delimiter_;
  std::vector<std::string> names_;
  bool drop_source_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseSplit(StepConfig& config) {
  auto column = config.String("column");
  auto delimiter = config.String("delimiter");
  auto into = config.OptionalStringList("into", "output column names");
  auto parts = config.OptionalInt("parts");
  const bool drop_source = config.Bool("drop_source", false);
  ASSAY_RETURN_IF_ERROR(config.Finish());
  if (delimiter.empty()) config.Fail("delimiter", "expected a non-empty string");
  if (into.has_value() == parts.has_value()) {
    config.Fail("", "set exactly one of into (output names) or parts (a count: <column>_1..k)");
  } else if (parts.has_value() && (*parts < 1 || *parts > 1000)) {
    config.Fail("parts", "expected an integer in 1..1000");
  }
  ASSAY_RETURN_IF_ERROR(config.Finish());
  std::vector<std::string> names;
  if (into.has_value()) {
    names = *std::move(into);
  } else {
    for (int64_t part = 1; part <= *parts; ++part) names.push_back(absl::StrCat(column, "_", part));
  }
  return std::make_unique<SplitProcessor>(std::move(column), std::move(delimiter), std::move(names),
                                          drop_source);
}

// ---- concat ------------------------------------------------------------------------------------

class ConcatProcessor : public PrepareProcessor {
 public:
  ConcatProcessor(std::vector<std::string> columns, std::string into, std::string separator,
                  bool skip_nulls)
      : columns_(std::move(columns)),
        into_(std::move(into)),
        separator_(std::move(separator)),
        skip_nulls_(skip_nulls) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const std::vector<int> indexes,
                           ResolveColumns(input, columns_, "columns"));
    BoundStep bound;
    bound.output = WithField(input, into_, DataType::kString);
    bound.apply = [this, indexes](const Table& table, const StepContext&,
                                  PrepareStepLog& log) -> absl::StatusOr<Table> {
      ColumnBuilder builder(DataType::kString);
      builder.Reserve(table.num_rows());
      std::string out;
      for (int64_t row = 0; row < table.num_rows(); ++row) {
        out.clear();
        bool any = false;
        bool null = false;
        for (int index : indexes) {
          const Column& column = table.column(index);
          if (column.IsNull(row)) {
            null = !skip_nulls_;
            if (null) break;
            continue;
          }
          if (any) out += separator_;
          any = true;
          if (column.type() == DataType::kString) {
            out.append(column.StringAt(row));
          } else {
            out += column.ValueToString(row);
          }
        }
        if (null || !any) {
          builder.AppendNull();
        } else {
          builder.AppendString(out);
        }
      }
      return PutColumn(table, into_, builder.Finish());
    };
    return bound;
  }

 private:
  std::vector<std::string> columns_;
  std::string into_;
  std::string separator_;
  bool skip_nulls_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseConcat(StepConfig& config) {
  auto columns = config.StringList("columns", "column names");
  auto into = config.String("into");
  auto separator = config.OptionalString("separator").value_or("");
  const bool skip_nulls = config.Bool("skip_nulls", true);
  ASSAY_RETURN_IF_ERROR(config.Finish());
  return std::make_unique<ConcatProcessor>(std::move(columns), std::move(into),
                                           std::move(separator), skip_nulls);
}

}  // namespace

void AddStringProcessors(std::vector<std::pair<std::string, ProcessorParser>>& registry) {
  registry.emplace_back("find_replace", ParseFindReplace);
  registry.emplace_back("string_transform", ParseStringTransform);
  registry.emplace_back("extract", ParseExtract);
  registry.emplace_back("split", ParseSplit);
  registry.emplace_back("concat", ParseConcat);
}

}  // namespace assay::recipes
