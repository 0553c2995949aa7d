// `assay dataset import|list|versions|show|head|export|profile`.
#include <unistd.h>

#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "catalog/datasets.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "flow/quality_gate.h"
#include "table/csv_writer.h"

namespace assay::cli {
namespace {

nlohmann::json VersionToJson(const catalog::DatasetVersion& version, bool with_profile) {
  nlohmann::json out = {{"dataset", version.dataset.ToString()},
                        {"version", version.Label()},
                        {"ref", version.Ref()},
                        {"sha256", version.sha256},
                        {"rows", version.row_count},
                        {"columns", version.column_count},
                        {"stored_bytes", version.byte_size},
                        {"schema", catalog::SchemaToJson(version.schema)},
                        {"source", version.source},
                        {"created_by", version.created_by},
                        {"created_at", FormatTime(version.created_at_micros)},
                        {"checks", version.checks}};
  if (with_profile) out["profile"] = version.profile;
  return out;
}

// The profile entry of column `name`, or null.
const nlohmann::json* ColumnProfile(const catalog::DatasetVersion& version,
                                    const std::string& name) {
  if (!version.profile.contains("columns")) return nullptr;
  for (const auto& column : version.profile["columns"]) {
    if (column.value("name", "") == name) return &column;
  }
  return nullptr;
}

std::string ProfileValue(const nlohmann::json* column, const char* key) {
  if (column == nullptr || !column->contains(key)) return "";
  return FormatJsonScalar((*column)[key]);
}

absl::StatusOr<catalog::DatasetVersion> ResolveRef(catalog::Workspace& workspace,
                                                   const std::string& text) {
  ASSAY_ASSIGN_OR_RETURN(const catalog::DatasetRef ref, catalog::ParseDatasetRef(text));
  return catalog::DatasetCatalog(workspace).Resolve(ref);
}

absl::StatusOr<char> ParseDelimiter(const std::string& text) {
  if (text == "\\t" || text == "tab") return '\t';
  if (text.size() == 1 && text[0] != '"' && text[0] != '\n' && text[0] != '\r') return text[0];
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid --delimiter \"", text, "\": give one character, e.g. ',' ';' '|' or 'tab'"));
}

struct ImportFlags {
  std::string dataset, file, delimiter, on_bad_rows = "error", reason;
  bool header = false, no_header = false, json = false, timings = false;
  std::vector<std::string> null_tokens, types;
};

absl::StatusOr<table::CsvReadOptions> BuildCsvOptions(const ImportFlags& flags) {
  table::CsvReadOptions options;
  if (!flags.delimiter.empty()) {
    ASSAY_ASSIGN_OR_RETURN(options.delimiter, ParseDelimiter(flags.delimiter));
  }
  if (flags.header && flags.no_header) {
    return absl::InvalidArgumentError("give at most one of --header and --no-header");
  }
  if (flags.header) options.header = table::HeaderMode::kPresent;
  if (flags.no_header) options.header = table::HeaderMode::kAbsent;
  if (!flags.null_tokens.empty()) options.null_tokens = flags.null_tokens;
  if (flags.on_bad_rows == "skip") {
    options.on_bad_rows = table::BadRowPolicy::kSkip;
  } else if (flags.on_bad_rows != "error") {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid --on-bad-rows=", flags.on_bad_rows, ": use error or skip"));
  }
  for (const std::string& spec : flags.types) {
    const size_t eq = spec.rfind('=');
    const auto type =
        eq == std::string::npos ? std::nullopt : table::DataTypeFromName(spec.substr(eq + 1));
    if (!type || eq == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid --type ", spec,
          ": use COLUMN=TYPE with TYPE one of bool, int64, float64, string, date, timestamp"));
    }
    options.column_types.push_back(table::Field{spec.substr(0, eq), *type});
  }
  return options;
}

absl::Status RunImport(const CommandContext& context, const ImportFlags& flags) {
  ASSAY_ASSIGN_OR_RETURN(const catalog::DatasetName name, catalog::ParseDatasetName(flags.dataset));
  ASSAY_ASSIGN_OR_RETURN(const table::CsvReadOptions options, BuildCsvOptions(flags));
  ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
  // The dataset's quality rules (set with `assay flow apply`) run on the new version.
  ASSAY_ASSIGN_OR_RETURN(const catalog::VersionChecker checker,
                         flow::MakeVersionChecker(*workspace, name.project, name.name));
  const bool show_progress = !flags.json && ::isatty(STDERR_FILENO);
  catalog::ImportProgress progress;
  if (show_progress) {
    progress = [](std::string_view stage) {
      std::cerr << "\r\033[K" << stage << "..." << std::flush;
    };
  }
  auto result = catalog::DatasetCatalog(*workspace)
                    .ImportCsv(name, flags.file, options, CommandContext::MakeActor(flags.reason),
                               progress, checker);
  if (show_progress) std::cerr << "\r\033[K" << std::flush;
  ASSAY_RETURN_IF_ERROR(result.status());
  const auto& version = result->version;
  if (flags.json) {
    nlohmann::json out = VersionToJson(version, /*with_profile=*/false);
    out["status"] = result->created ? "created" : "unchanged";
    out["skipped_rows"] = result->report.skipped_rows;
    nlohmann::json skipped = nlohmann::json::array();
    for (const auto& bad : result->report.skipped_examples) {
      skipped.push_back({{"line", bad.line}, {"message", bad.message}});
    }
    out["skipped_examples"] = skipped;
    nlohmann::json timings = nlohmann::json::object();
    for (const auto& timing : result->timings) timings[timing.stage] = timing.seconds;
    out["timings_seconds"] = timings;
    PrintJson(std::cout, out);
    return absl::OkStatus();
  }
  if (result->created) {
    std::cout << "Imported " << version.Ref() << ": " << FormatCount(version.row_count) << " rows, "
              << version.column_count << " columns, sha256 " << version.sha256.substr(0, 16)
              << "\n";
  } else {
    std::cout << "Unchanged: " << flags.file << " has the same content as " << version.Ref()
              << " (sha256 " << version.sha256.substr(0, 16) << "); no new version\n";
  }
  if (result->created && !version.checks.is_null()) {
    if (version.checks.value("passed", true)) {
      std::cout << "Quality rules passed (" << version.checks.value("warnings", 0)
                << " warnings); see `assay dataset show " << version.Ref() << "`\n";
    } else {
      std::cout << "Quality rules FAILED: " << flow::DescribeFailedRules(version.checks)
                << "\nThe version is stored with its report; builds will not read it until "
                   "fixed or overridden (see `assay dataset show "
                << version.Ref() << "`)\n";
    }
  }
  if (result->report.skipped_rows > 0) {
    std::cout << "Skipped " << FormatCount(result->report.skipped_rows) << " malformed rows:\n";
    for (const auto& bad : result->report.skipped_examples) {
      std::cout << "  line " << bad.line << ": " << bad.message << "\n";
    }
    if (result->report.skipped_rows >
        static_cast<int64_t>(result->report.skipped_examples.size())) {
      std::cout << "  ...\n";
    }
  }
  if (flags.timings) {
    TextTable table({"STAGE", "SECONDS"});
    for (const auto& timing : result->timings) {
      table.AddRow({timing.stage, absl::StrFormat("%.3f", timing.seconds)});
    }
    table.Print(std::cout, 48, "  ");
  }
  return absl::OkStatus();
}

void RegisterImport(CLI::App& dataset, CommandContext& context) {
  auto flags = std::make_shared<ImportFlags>();
  auto* command = dataset.add_subcommand(
      "import", "Import a CSV file as the next version of a dataset (created on first import)");
  command->add_option("DATASET", flags->dataset, "PROJECT/NAME")->required();
  command->add_option("FILE", flags->file, "CSV file (RFC 4180; UTF-8)")->required();
  command->add_option("--delimiter", flags->delimiter,
                      "Field delimiter: one character or 'tab' (default: sniffed from , ; tab |)");
  command->add_flag("--header", flags->header, "The first row is a header (default: detected)");
  command->add_flag("--no-header", flags->no_header,
                    "The first row is data; columns are named column_1, column_2, ...");
  command->add_option("--null-token", flags->null_tokens,
                      "An unquoted value that means null (repeatable; replaces the default set: "
                      "empty, NA, N/A, NULL, null, NaN)");
  command->add_option("--type", flags->types,
                      "Force a column's type, COLUMN=TYPE (repeatable), e.g. --type zip=string");
  command->add_option("--on-bad-rows", flags->on_bad_rows,
                      "error (default): stop at the first malformed row; skip: drop malformed "
                      "rows and report them");
  command->add_option("--reason", flags->reason, "Why (recorded in the audit trail)");
  command->add_flag("--json", flags->json, "Print the result as JSON (includes stage timings)");
  command->add_flag("--timings", flags->timings,
                    "Also print how long each stage took (read, encode, profile, store, commit)");
  command->callback([&context, flags] {
    context.action = [&context, flags] { return RunImport(context, *flags); };
  });
}

void RegisterList(CLI::App& dataset, CommandContext& context) {
  struct Flags {
    std::string project;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  auto* list = dataset.add_subcommand("list", "List the datasets of a project");
  list->add_option("PROJECT", flags->project, "Project key")->required();
  list->add_flag("--json", flags->json, "Print JSON");
  list->callback([&context, flags] {
    context.action = [&context, flags]() -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      ASSAY_ASSIGN_OR_RETURN(const auto datasets,
                             catalog::DatasetCatalog(*workspace).List(flags->project));
      if (flags->json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& d : datasets) {
          out.push_back({{"dataset", d.dataset.ToString()},
                         {"versions", d.version_count},
                         {"latest", VersionToJson(d.latest, false)}});
        }
        PrintJson(std::cout, out);
        return absl::OkStatus();
      }
      if (datasets.empty()) {
        std::cout << "Project " << flags->project
                  << " has no datasets yet. Import one with `assay dataset import "
                  << flags->project << "/NAME FILE.csv`.\n";
        return absl::OkStatus();
      }
      TextTable table({"DATASET", "LATEST", "ROWS", "COLUMNS", "SHA256", "UPDATED"});
      for (const auto& d : datasets) {
        table.AddRow({d.dataset.ToString(), d.latest.Label(), FormatCount(d.latest.row_count),
                      std::to_string(d.latest.column_count), d.latest.sha256.substr(0, 12),
                      FormatTime(d.latest.created_at_micros)});
      }
      table.Print(std::cout);
      return absl::OkStatus();
    };
  });
}

void RegisterVersions(CLI::App& dataset, CommandContext& context) {
  struct Flags {
    std::string dataset;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  auto* versions = dataset.add_subcommand("versions", "List every version of a dataset");
  versions->add_option("DATASET", flags->dataset, "PROJECT/NAME")->required();
  versions->add_flag("--json", flags->json, "Print JSON");
  versions->callback([&context, flags] {
    context.action = [&context, flags]() -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(const catalog::DatasetName name,
                             catalog::ParseDatasetName(flags->dataset));
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      ASSAY_ASSIGN_OR_RETURN(const auto versions,
                             catalog::DatasetCatalog(*workspace).Versions(name));
      if (flags->json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& v : versions) out.push_back(VersionToJson(v, false));
        PrintJson(std::cout, out);
        return absl::OkStatus();
      }
      TextTable table({"VERSION", "SHA256", "ROWS", "COLUMNS", "CREATED", "BY", "SOURCE"});
      for (const auto& v : versions) {
        table.AddRow({v.Label(), v.sha256.substr(0, 16), FormatCount(v.row_count),
                      std::to_string(v.column_count), FormatTime(v.created_at_micros), v.created_by,
                      v.source.value("path", "")});
      }
      table.Print(std::cout);
      return absl::OkStatus();
    };
  });
}

void RegisterShow(CLI::App& dataset, CommandContext& context) {
  struct Flags {
    std::string ref;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  auto* show = dataset.add_subcommand(
      "show",
      "Show one version: hash, rows, schema, creator, source (REF: PROJECT/NAME, "
      "PROJECT/NAME@v3, PROJECT/NAME@sha256:PREFIX)");
  show->add_option("REF", flags->ref, "Dataset reference")->required();
  show->add_flag("--json", flags->json, "Print JSON (includes the full profile)");
  show->callback([&context, flags] {
    context.action = [&context, flags]() -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      ASSAY_ASSIGN_OR_RETURN(const auto v, ResolveRef(*workspace, flags->ref));
      if (flags->json) {
        PrintJson(std::cout, VersionToJson(v, /*with_profile=*/true));
        return absl::OkStatus();
      }
      std::cout << v.Ref() << "\n"
                << "  sha256    " << v.sha256 << "\n"
                << "  rows      " << FormatCount(v.row_count) << "\n"
                << "  columns   " << v.column_count << "\n"
                << "  stored    " << FormatBytes(v.byte_size) << "\n"
                << "  created   " << FormatTime(v.created_at_micros) << " by " << v.created_by
                << "\n";
      if (v.source.value("kind", "") == "csv") {
        std::cout << "  source    " << v.source.value("path", "") << "\n"
                  << "            sha256 " << v.source.value("file_sha256", "") << ", "
                  << FormatBytes(v.source.value("file_bytes", int64_t{0})) << ", delimiter '"
                  << v.source.value("delimiter", "") << "', header "
                  << (v.source.value("header", true) ? "yes" : "no");
        if (v.source.value("skipped_rows", int64_t{0}) > 0) {
          std::cout << ", " << v.source.value("skipped_rows", int64_t{0})
                    << " malformed rows skipped";
        }
        std::cout << "\n";
      } else if (v.source.value("kind", "") == "recipe") {
        std::cout << "  source    recipe " << v.source.value("recipe", "") << "@v"
                  << v.source.value("recipe_version", int64_t{0}) << " ("
                  << v.source.value("type", "") << "); see `assay lineage " << v.Ref() << "`\n";
      }
      std::cout << "checks:\n";
      for (const auto& line : absl::StrSplit(flow::DescribeChecks(v.checks), '\n')) {
        if (!line.empty()) std::cout << "  " << line << "\n";
      }
      std::cout << "schema:\n";
      TextTable table({"#", "COLUMN", "TYPE", "NULLS", "DISTINCT", "MIN", "MAX"});
      for (int i = 0; i < v.schema.num_fields(); ++i) {
        const auto& field = v.schema.field(i);
        const nlohmann::json* profile = ColumnProfile(v, field.name);
        table.AddRow({std::to_string(i + 1), field.name,
                      std::string(table::DataTypeName(field.type)), ProfileValue(profile, "nulls"),
                      ProfileValue(profile, "distinct"), ProfileValue(profile, "min"),
                      ProfileValue(profile, "max")});
      }
      table.Print(std::cout, 32, "  ");
      std::cout << "(column statistics: assay dataset profile " << v.Ref() << ")\n";
      return absl::OkStatus();
    };
  });
}

void RegisterHead(CLI::App& dataset, CommandContext& context) {
  struct Flags {
    std::string ref;
    int64_t rows = 10;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  auto* head = dataset.add_subcommand("head", "Print the first rows of a version");
  head->add_option("REF", flags->ref, "Dataset reference")->required();
  head->add_option("-n,--rows", flags->rows, "How many rows (default 10)")
      ->check(CLI::NonNegativeNumber);
  head->add_flag("--json", flags->json, "Print rows as JSON objects (null for missing values)");
  head->callback([&context, flags] {
    context.action = [&context, flags]() -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      ASSAY_ASSIGN_OR_RETURN(const auto v, ResolveRef(*workspace, flags->ref));
      ASSAY_ASSIGN_OR_RETURN(const table::Table full,
                             catalog::DatasetCatalog(*workspace).LoadTable(v));
      const table::Table rows = full.Slice(0, flags->rows);
      if (flags->json) {
        nlohmann::json out = nlohmann::json::array();
        for (int64_t row = 0; row < rows.num_rows(); ++row) {
          nlohmann::json object = nlohmann::json::object();
          for (int col = 0; col < rows.num_columns(); ++col) {
            const table::Column& column = rows.column(col);
            nlohmann::json value;
            if (column.IsValid(row)) {
              switch (column.type()) {
                case table::DataType::kBool:
                  value = column.bool_values()[row] != 0;
                  break;
                case table::DataType::kInt64:
                  value = column.int64_values()[row];
                  break;
                case table::DataType::kFloat64:
                  value = column.float64_values()[row];
                  break;
                default:
                  value = column.ValueToString(row);
              }
            }
            object[rows.schema().field(col).name] = value;
          }
          out.push_back(object);
        }
        PrintJson(std::cout, out);
        return absl::OkStatus();
      }
      std::vector<std::string> header;
      for (const auto& field : rows.schema().fields()) header.push_back(field.name);
      TextTable table(header);
      for (int64_t row = 0; row < rows.num_rows(); ++row) {
        std::vector<std::string> cells;
        for (int col = 0; col < rows.num_columns(); ++col) {
          cells.push_back(rows.column(col).ValueToString(row, "∅"));
        }
        table.AddRow(std::move(cells));
      }
      table.Print(std::cout, 24);
      std::cout << "(" << FormatCount(rows.num_rows()) << " of " << FormatCount(v.row_count)
                << " rows of " << v.Ref() << "; ∅ = null)\n";
      return absl::OkStatus();
    };
  });
}

void RegisterExport(CLI::App& dataset, CommandContext& context) {
  struct Flags {
    std::string ref, output, delimiter;
  };
  auto flags = std::make_shared<Flags>();
  auto* exp = dataset.add_subcommand("export", "Write a version to a CSV file");
  exp->add_option("REF", flags->ref, "Dataset reference")->required();
  exp->add_option("-o,--output", flags->output, "Output CSV file (written atomically)")->required();
  exp->add_option("--delimiter", flags->delimiter, "Field delimiter (default ',')");
  exp->callback([&context, flags] {
    context.action = [&context, flags]() -> absl::Status {
      table::CsvWriteOptions options;
      if (!flags->delimiter.empty()) {
        ASSAY_ASSIGN_OR_RETURN(options.delimiter, ParseDelimiter(flags->delimiter));
      }
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      ASSAY_ASSIGN_OR_RETURN(const auto v, ResolveRef(*workspace, flags->ref));
      ASSAY_ASSIGN_OR_RETURN(const table::Table table,
                             catalog::DatasetCatalog(*workspace).LoadTable(v));
      ASSAY_RETURN_IF_ERROR(table::WriteCsvFile(table, flags->output, options));
      std::cout << "Exported " << v.Ref() << " (" << FormatCount(v.row_count) << " rows) to "
                << flags->output << "\n";
      return absl::OkStatus();
    };
  });
}

void PrintColumnProfile(const nlohmann::json& column) {
  std::cout << column.value("name", "") << " (" << column.value("type", "") << ")\n";
  TextTable stats({"STAT", "VALUE"});
  for (const char* key : {"count", "nulls", "nan_count", "distinct", "min", "max", "mean", "std",
                          "min_length", "max_length"}) {
    if (!column.contains(key)) continue;
    const bool is_count = column[key].is_number_integer() && std::string_view(key) != "min" &&
                          std::string_view(key) != "max";
    stats.AddRow(
        {key, is_count ? FormatCount(column[key].get<int64_t>()) : FormatJsonScalar(column[key])});
  }
  if (column.contains("quantiles")) {
    for (const char* q : {"p1", "p5", "p25", "p50", "p75", "p95", "p99"}) {
      if (column["quantiles"].contains(q)) {
        stats.AddRow({q, FormatJsonScalar(column["quantiles"][q])});
      }
    }
  }
  stats.Print(std::cout, 48, "  ");
  if (column.contains("histogram") && column["histogram"].contains("counts")) {
    const auto& edges = column["histogram"]["edges"];
    const auto& counts = column["histogram"]["counts"];
    int64_t peak = 1;
    for (const auto& c : counts) peak = std::max(peak, c.get<int64_t>());
    std::cout << "  histogram:\n";
    TextTable bins({"FROM", "TO", "COUNT", ""});
    for (size_t i = 0; i < counts.size(); ++i) {
      const int64_t count = counts[i].get<int64_t>();
      const size_t bar = static_cast<size_t>(30 * count / peak);
      std::string bar_text;
      for (size_t b = 0; b < bar; ++b) bar_text += "█";
      bins.AddRow({i < edges.size() ? FormatJsonScalar(edges[i]) : "",
                   i + 1 < edges.size() ? FormatJsonScalar(edges[i + 1]) : "", FormatCount(count),
                   bar_text});
    }
    bins.Print(std::cout, 48, "    ");
  }
  if (column.contains("top_values") && !column["top_values"].empty()) {
    std::cout << "  top values:\n";
    TextTable top({"VALUE", "COUNT"});
    for (const auto& entry : column["top_values"]) {
      top.AddRow({FormatJsonScalar(entry["value"]), FormatCount(entry.value("count", int64_t{0}))});
    }
    top.Print(std::cout, 48, "    ");
  }
  std::cout << "\n";
}

void RegisterProfile(CLI::App& dataset, CommandContext& context) {
  struct Flags {
    std::string ref, column;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  auto* profile = dataset.add_subcommand(
      "profile", "Show the column profile stored with a version (computed at import)");
  profile->add_option("REF", flags->ref, "Dataset reference")->required();
  profile->add_option("--column", flags->column, "Only this column");
  profile->add_flag("--json", flags->json, "Print JSON");
  profile->callback([&context, flags] {
    context.action = [&context, flags]() -> absl::Status {
      ASSAY_ASSIGN_OR_RETURN(auto workspace, context.OpenWorkspace());
      ASSAY_ASSIGN_OR_RETURN(const auto v, ResolveRef(*workspace, flags->ref));
      nlohmann::json columns = nlohmann::json::array();
      for (const auto& column : v.profile.value("columns", nlohmann::json::array())) {
        if (flags->column.empty() || column.value("name", "") == flags->column) {
          columns.push_back(column);
        }
      }
      if (!flags->column.empty() && columns.empty()) {
        return absl::NotFoundError(absl::StrCat(v.Ref(), " has no column \"", flags->column,
                                                "\" (columns: ", v.schema.NameList(), ")"));
      }
      if (flags->json) {
        PrintJson(std::cout, {{"ref", v.Ref()}, {"sha256", v.sha256}, {"columns", columns}});
        return absl::OkStatus();
      }
      std::cout << "Profile of " << v.Ref() << " (" << FormatCount(v.row_count) << " rows)\n\n";
      for (const auto& column : columns) PrintColumnProfile(column);
      return absl::OkStatus();
    };
  });
}

}  // namespace

void RegisterDatasetCommands(CLI::App& app, CommandContext& context) {
  auto* dataset = app.add_subcommand("dataset", "Import, inspect and export versioned datasets");
  dataset->require_subcommand(1);
  RegisterImport(*dataset, context);
  RegisterList(*dataset, context);
  RegisterVersions(*dataset, context);
  RegisterShow(*dataset, context);
  RegisterHead(*dataset, context);
  RegisterExport(*dataset, context);
  RegisterProfile(*dataset, context);
}

}  // namespace assay::cli
