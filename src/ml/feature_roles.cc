#include "ml/feature_roles.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <set>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"

namespace assay::ml {
namespace {

using table::Column;
using table::DataType;

// Distinct-value statistics of one column over the training rows. Exact for int64 and
// string (the identifier and free-text rules need it); for the other types counting stops
// at two, which is all the constant rule needs.
struct ColumnStats {
  int64_t non_missing = 0;
  int64_t missing = 0;
  int64_t distinct = 0;  // among non-missing values
};

template <typename Value, typename GetFn>
int64_t CountDistinct(const Column& column, const std::vector<int64_t>& rows, bool exact,
                      GetFn get) {
  absl::flat_hash_set<Value> seen;
  for (int64_t row : rows) {
    if (column.IsNull(row)) continue;
    seen.insert(get(row));
    if (!exact && seen.size() >= 2) break;
  }
  return static_cast<int64_t>(seen.size());
}

ColumnStats ComputeStats(const Column& column, const std::vector<int64_t>& rows) {
  ColumnStats stats;
  for (int64_t row : rows) {
    bool missing = column.IsNull(row);
    if (!missing && column.type() == DataType::kFloat64) {
      missing = !std::isfinite(column.float64_values()[row]);
    }
    if (missing) {
      ++stats.missing;
    } else {
      ++stats.non_missing;
    }
  }
  switch (column.type()) {
    case DataType::kBool:
      stats.distinct = CountDistinct<uint8_t>(
          column, rows, false, [&](int64_t row) { return column.bool_values()[row]; });
      break;
    case DataType::kInt64:
    case DataType::kTimestamp:
      stats.distinct =
          CountDistinct<int64_t>(column, rows, column.type() == DataType::kInt64,
                                 [&](int64_t row) { return column.int64_values()[row]; });
      break;
    case DataType::kDate:
      stats.distinct = CountDistinct<int32_t>(
          column, rows, false, [&](int64_t row) { return column.date_values()[row]; });
      break;
    case DataType::kFloat64: {
      // Bit patterns of finite values (non-finite ones count as missing above).
      absl::flat_hash_set<uint64_t> seen;
      for (int64_t row : rows) {
        const double value = column.float64_values()[row];
        if (column.IsNull(row) || !std::isfinite(value)) continue;
        const double normalized = value == 0 ? 0.0 : value;  // -0 == +0
        uint64_t bits;
        std::memcpy(&bits, &normalized, sizeof(bits));
        seen.insert(bits);
        if (seen.size() >= 2) break;
      }
      stats.distinct = static_cast<int64_t>(seen.size());
      break;
    }
    case DataType::kString:
      stats.distinct = CountDistinct<absl::string_view>(
          column, rows, true, [&](int64_t row) { return Absl(column.StringAt(row)); });
      break;
  }
  return stats;
}

bool EndsWithToken(const std::string& name, std::string_view token) {
  if (name == token) return true;
  return name.size() > token.size() + 1 &&
         name.compare(name.size() - token.size(), token.size(), token) == 0 &&
         name[name.size() - token.size() - 1] == '_';
}

absl::Status UnknownColumn(const table::Table& table, std::string_view key, std::string_view name) {
  return absl::InvalidArgumentError(absl::StrCat("features.", Absl(key),
                                                 ": the table has no column \"", Absl(name),
                                                 "\" (columns: ", table.schema().NameList(), ")"));
}

// Whether an override role can apply to a column type (see the header).
bool RoleFitsType(ColumnRole role, DataType type) {
  switch (role) {
    case ColumnRole::kNumeric:
      return type == DataType::kBool || type == DataType::kInt64 || type == DataType::kFloat64;
    case ColumnRole::kCategorical:
      return type != DataType::kFloat64;
    case ColumnRole::kDate:
      return table::IsTemporal(type);
    case ColumnRole::kDropped:
      return true;
  }
  return false;
}

ColumnRole RoleOfType(DataType type) {
  switch (type) {
    case DataType::kBool:
    case DataType::kInt64:
    case DataType::kFloat64:
      return ColumnRole::kNumeric;
    case DataType::kString:
      return ColumnRole::kCategorical;
    case DataType::kDate:
    case DataType::kTimestamp:
      return ColumnRole::kDate;
  }
  return ColumnRole::kDropped;
}

}  // namespace

nlohmann::json ColumnDecision::ToJson() const {
  return {{"column", column},
          {"type", std::string(table::DataTypeName(type))},
          {"role", std::string(ColumnRoleName(role))},
          {"rule", rule},
          {"reason", reason},
          {"handling", handling}};
}

absl::StatusOr<ColumnDecision> ColumnDecision::FromJson(const nlohmann::json& json) {
  ColumnDecision decision;
  for (const char* key : {"column", "type", "role", "rule", "reason", "handling"}) {
    if (!json.is_object() || !json.contains(key) || !json[key].is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("feature pipeline decision: \"", key, "\" must be a string"));
    }
  }
  decision.column = json["column"].get<std::string>();
  const auto type = table::DataTypeFromName(json["type"].get<std::string>());
  const auto role = ColumnRoleFromName(json["role"].get<std::string>());
  if (!type || !role) {
    return absl::InvalidArgumentError(
        absl::StrCat("feature pipeline decision for \"", decision.column, "\": bad type or role"));
  }
  decision.type = *type;
  decision.role = *role;
  decision.rule = json["rule"].get<std::string>();
  decision.reason = json["reason"].get<std::string>();
  decision.handling = json["handling"].get<std::string>();
  return decision;
}

std::string NormalizeColumnName(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 4);
  bool pending_separator = false;
  char previous = 0;
  for (char raw : name) {
    const unsigned char c = static_cast<unsigned char>(raw);
    if (!std::isalnum(c)) {
      pending_separator = !out.empty();
      previous = 0;
      continue;
    }
    const bool camel_boundary = std::isupper(c) && previous != 0 &&
                                (std::islower(static_cast<unsigned char>(previous)) ||
                                 std::isdigit(static_cast<unsigned char>(previous)));
    if ((pending_separator || camel_boundary) && !out.empty()) out.push_back('_');
    pending_separator = false;
    out.push_back(static_cast<char>(std::tolower(c)));
    previous = raw;
  }
  return out;
}

bool IsPhiColumnName(std::string_view name) {
  static const char* const kExact[] = {
      "name",           "patient_name", "hcp_name",        "provider_name",
      "physician_name", "doctor_name",  "prescriber_name", "customer_name",
      "member_name",    "person_name",  "contact_name"};
  static const char* const kSuffixes[] = {"first_name",
                                          "last_name",
                                          "full_name",
                                          "middle_name",
                                          "surname",
                                          "given_name",
                                          "family_name",
                                          "email",
                                          "email_address",
                                          "phone",
                                          "phone_number",
                                          "telephone",
                                          "mobile",
                                          "fax",
                                          "address",
                                          "street",
                                          "street_address",
                                          "address_line_1",
                                          "address_line_2",
                                          "zip",
                                          "zip_code",
                                          "zipcode",
                                          "postal_code",
                                          "ssn",
                                          "social_security_number",
                                          "dob",
                                          "date_of_birth",
                                          "birth_date",
                                          "birthdate",
                                          "mrn",
                                          "medical_record_number",
                                          "npi",
                                          "ip_address"};
  const std::string normalized = NormalizeColumnName(name);
  for (const char* exact : kExact) {
    if (normalized == exact) return true;
  }
  for (const char* suffix : kSuffixes) {
    if (EndsWithToken(normalized, suffix)) return true;
  }
  return false;
}

bool IsIdentifierColumnName(std::string_view name) {
  const std::string normalized = NormalizeColumnName(name);
  if (normalized == "npi") return true;
  for (const char* token : {"id", "uuid", "guid"}) {
    if (EndsWithToken(normalized, token)) return true;
  }
  return false;
}

absl::StatusOr<std::vector<ColumnDecision>> DecideColumnRoles(
    const table::Table& table, std::string_view target, const std::vector<int64_t>& train_rows,
    const PipelineSpec& spec) {
  const table::Schema& schema = table.schema();
  for (const auto& [key, names] :
       std::vector<std::pair<std::string_view, const std::vector<std::string>*>>{
           {"include", &spec.include},
           {"exclude", &spec.exclude},
           {"phi_columns", &spec.phi_columns},
           {"allow_phi", &spec.allow_phi}}) {
    for (const auto& name : *names) {
      if (!schema.FindField(name)) return UnknownColumn(table, key, name);
    }
  }
  for (const auto& [name, override_spec] : spec.columns) {
    if (!schema.FindField(name)) return UnknownColumn(table, "columns", name);
  }
  const std::set<std::string> include(spec.include.begin(), spec.include.end());
  const std::set<std::string> exclude(spec.exclude.begin(), spec.exclude.end());
  const std::set<std::string> phi(spec.phi_columns.begin(), spec.phi_columns.end());
  const std::set<std::string> allow_phi(spec.allow_phi.begin(), spec.allow_phi.end());

  std::vector<ColumnDecision> decisions;
  decisions.reserve(static_cast<size_t>(table.num_columns()));
  for (int index = 0; index < table.num_columns(); ++index) {
    const table::Field& field = schema.field(index);
    ColumnDecision decision;
    decision.column = field.name;
    decision.type = field.type;
    decision.role = ColumnRole::kDropped;
    auto decide = [&](std::string rule, std::string reason) {
      decision.rule = std::move(rule);
      decision.reason = std::move(reason);
    };
    const auto override_spec = spec.columns.find(field.name);
    const bool has_role_override =
        override_spec != spec.columns.end() && override_spec->second.role.has_value();
    const std::string type_name(table::DataTypeName(field.type));

    if (field.name == target) {
      decide("target", "the target column");
    } else if (exclude.count(field.name) > 0) {
      decide("excluded", "listed in features.exclude");
    } else if (!include.empty() && include.count(field.name) == 0) {
      decide("not_included", "not listed in features.include");
    } else if (phi.count(field.name) > 0 && allow_phi.count(field.name) == 0) {
      decide("phi_tagged",
             "tagged as PHI in features.phi_columns; list it in features.allow_phi to use it");
    } else if (spec.phi_name_heuristic && allow_phi.count(field.name) == 0 &&
               IsPhiColumnName(field.name)) {
      decide("phi_name",
             "the name looks like protected health information (name, contact, address, date "
             "of birth or identifier number); list it in features.allow_phi to use it");
    } else if (has_role_override) {
      const ColumnRole role = *override_spec->second.role;
      if (!RoleFitsType(role, field.type)) {
        return absl::InvalidArgumentError(
            absl::StrCat("features.columns.", field.name, ".role: a ", type_name,
                         " column cannot be ", Absl(ColumnRoleName(role)),
                         role == ColumnRole::kNumeric ? " (convert it with a prepare recipe first)"
                         : role == ColumnRole::kCategorical
                             ? " (bin it with a prepare recipe first)"
                             : " (only date and timestamp columns can be dates)"));
      }
      decision.role = role;
      decide("override", absl::StrCat("role set to ", Absl(ColumnRoleName(role)),
                                      " by features.columns.", field.name, ".role"));
    } else {
      const ColumnStats stats = ComputeStats(table.column(index), train_rows);
      const int64_t distinct_with_missing = stats.distinct + (stats.missing > 0 ? 1 : 0);
      const bool id_type = field.type == DataType::kInt64 || field.type == DataType::kString;
      if (stats.non_missing == 0) {
        decide("all_missing",
               absl::StrCat("no value in the ", train_rows.size(), " training rows"));
      } else if (distinct_with_missing < 2) {
        decide("constant",
               absl::StrCat("constant: one value in all ", train_rows.size(), " training rows"));
      } else if (IsIdentifierColumnName(field.name)) {
        decide("identifier_name", "the name marks an identifier (id, *_id, uuid, guid, npi)");
      } else if (id_type && stats.non_missing >= kIdentifierMinRows &&
                 stats.distinct == stats.non_missing) {
        decide("identifier_unique", absl::StrCat("identifier: all ", stats.non_missing,
                                                 " non-missing training values "
                                                 "of this ",
                                                 type_name, " column are distinct"));
      } else if (field.type == DataType::kString && stats.distinct > kHighCardinalityMinDistinct &&
                 static_cast<double>(stats.distinct) >
                     spec.max_distinct_ratio * static_cast<double>(stats.non_missing)) {
        decide("high_cardinality_text",
               absl::StrCat("free text or high cardinality: ", stats.distinct,
                            " distinct values in ", stats.non_missing,
                            " non-missing training values (more than max_distinct_ratio ",
                            spec.max_distinct_ratio, ")"));
      } else {
        decision.role = RoleOfType(field.type);
        decide("type",
               absl::StrCat(Absl(ColumnRoleName(decision.role)), " by type (", type_name, ")"));
      }
    }
    decisions.push_back(std::move(decision));
  }
  return decisions;
}

}  // namespace assay::ml
