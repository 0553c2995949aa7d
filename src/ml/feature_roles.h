// Column roles: which input columns of a training table become features, as what (numeric,
// categorical, date), and which are dropped, each with a stated rule and reason a validator
// can read (docs/ml/features.md "Roles"). Decided from the training rows only, so the
// decision of a fold never depends on its validation rows.
//
// The rules, first match wins:
//   target                 the target column itself
//   excluded               listed in features.exclude
//   not_included           features.include is set and does not list the column
//   phi_tagged             listed in features.phi_columns and not in features.allow_phi
//   phi_name               the name looks like PHI (IsPhiColumnName) and not allowed
//   override               features.columns.<name>.role (may also be "dropped")
//   all_missing            no non-missing value in the training rows
//   constant               fewer than two distinct values, counting missing as a value
//   identifier_name        the name looks like an identifier (IsIdentifierColumnName)
//   identifier_unique      int64 or string, at least kIdentifierMinRows non-missing training
//                          values, all distinct
//   high_cardinality_text  string with more than kHighCardinalityMinDistinct distinct values
//                          and distinct / non-missing > features.max_distinct_ratio
//   type                   bool/int64/float64 -> numeric, string -> categorical,
//                          date/timestamp -> date
//
// Pure functions; thread-safe.
#ifndef ASSAY_ML_FEATURE_ROLES_H_
#define ASSAY_ML_FEATURE_ROLES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ml/feature_spec.h"
#include "nlohmann/json.hpp"
#include "table/table.h"

namespace assay::ml {

inline constexpr int64_t kIdentifierMinRows = 50;
inline constexpr int64_t kHighCardinalityMinDistinct = 20;

// The decision for one input column.
struct ColumnDecision {
  std::string column;
  table::DataType type = table::DataType::kInt64;
  ColumnRole role = ColumnRole::kDropped;
  std::string rule;      // one of the rule ids above
  std::string reason;    // a sentence: why this role
  std::string handling;  // kept columns: what the fitted pipeline does ("median impute, ...")

  nlohmann::json ToJson() const;
  static absl::StatusOr<ColumnDecision> FromJson(const nlohmann::json& json);
  bool operator==(const ColumnDecision&) const = default;
};

// The column name normalized for the name rules: lowercase, camelCase boundaries and every
// run of non-alphanumeric characters turned into one '_' ("hcpId" -> "hcp_id",
// "E-Mail Address" -> "e_mail_address").
std::string NormalizeColumnName(std::string_view name);

// The PHI name heuristic, after HIPAA's Safe Harbor identifiers (45 CFR 164.514(b)(2)(i)):
// the normalized name is "name" or a person's name ("patient_name", "hcp_name", ...), or is or
// ends with "_" + one of: first_name, last_name, full_name, middle_name, surname, given_name,
// family_name, email, email_address, phone, phone_number, telephone, mobile, fax, address,
// street, street_address, address_line_1, address_line_2, zip, zip_code, zipcode,
// postal_code, ssn, social_security_number, dob, date_of_birth, birth_date, birthdate, mrn,
// medical_record_number, npi, ip_address.
bool IsPhiColumnName(std::string_view name);

// The identifier name heuristic: the normalized name is "id", "uuid", "guid" or "npi", or
// ends with "_id", "_uuid" or "_guid".
bool IsIdentifierColumnName(std::string_view name);

// Decides the role of every column of `table` (in table order) from the rows `train_rows`.
// Requires every row id in [0, table.num_rows()).
// Errors: INVALID_ARGUMENT when features.include/exclude/phi_columns/allow_phi or
// features.columns name a column the table does not have (listing the columns), or an
// override role does not fit the column's type (a string column cannot be numeric; a float64
// column cannot be categorical; only date and timestamp columns can be dates).
absl::StatusOr<std::vector<ColumnDecision>> DecideColumnRoles(
    const table::Table& table, std::string_view target, const std::vector<int64_t>& train_rows,
    const PipelineSpec& spec);

}  // namespace assay::ml

#endif  // ASSAY_ML_FEATURE_ROLES_H_
