#include "recipes/reshape_config.h"

#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace assay::recipes::reshape {
namespace {

std::string JoinChoices(std::initializer_list<std::string_view> choices) {
  std::string out;
  for (std::string_view choice : choices) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", Absl(choice));
  }
  return out;
}

std::string QuotedChoices(std::initializer_list<std::string_view> choices) {
  std::string out;
  size_t index = 0;
  for (std::string_view choice : choices) {
    const char* separator = index == 0 ? "" : (index + 1 == choices.size() ? " or " : ", ");
    absl::StrAppend(&out, separator, "\"", Absl(choice), "\"");
    ++index;
  }
  return out;
}

}  // namespace

std::string ConfigContext::KeyPath(std::string_view parent, std::string_view key) {
  return absl::StrCat(Absl(parent), parent.empty() ? "" : ".", "\"", Absl(key), "\"");
}

std::string ConfigContext::IndexPath(std::string_view parent, size_t index) {
  return absl::StrCat(Absl(parent), "[", index, "]");
}

absl::Status ConfigContext::Expected(std::string_view path, std::string_view expected) const {
  return Error(path, absl::StrCat("expected ", Absl(expected)));
}

absl::Status ConfigContext::Error(std::string_view path, std::string_view message) const {
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(recipe_, " config: ", Absl(message)));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(recipe_, " config: ", Absl(path), ": ", Absl(message)));
}

absl::Status ConfigContext::CheckObject(const nlohmann::json& value, std::string_view path,
                                        std::initializer_list<std::string_view> allowed,
                                        std::initializer_list<std::string_view> required) const {
  if (!value.is_object()) {
    return Expected(path, "an object");
  }
  for (const auto& [key, member] : value.items()) {
    bool known = false;
    for (std::string_view name : allowed) known = known || key == name;
    if (!known) {
      // The key comes from the user; keep it printable whatever its bytes.
      const std::string shown =
          nlohmann::json(key).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return Error(
          path, absl::StrCat("unknown key ", shown, " (allowed keys: ", JoinChoices(allowed), ")"));
    }
  }
  for (std::string_view name : required) {
    if (!value.contains(name)) {
      return Error(path, absl::StrCat("missing required key \"", Absl(name), "\""));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ConfigContext::String(const nlohmann::json& object,
                                                  std::string_view parent,
                                                  std::string_view key) const {
  const std::string path = KeyPath(parent, key);
  auto it = object.find(key);
  if (it == object.end()) return Error(parent, absl::StrCat("missing required key ", path));
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    return Expected(path, "a non-empty string");
  }
  return it->get<std::string>();
}

absl::StatusOr<std::string> ConfigContext::OptionalString(const nlohmann::json& object,
                                                          std::string_view parent,
                                                          std::string_view key,
                                                          std::string fallback) const {
  auto it = object.find(key);
  if (it == object.end()) return fallback;
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    return Expected(KeyPath(parent, key), "a non-empty string");
  }
  return it->get<std::string>();
}

absl::StatusOr<bool> ConfigContext::OptionalBool(const nlohmann::json& object,
                                                 std::string_view parent, std::string_view key,
                                                 bool fallback) const {
  auto it = object.find(key);
  if (it == object.end()) return fallback;
  if (!it->is_boolean()) return Expected(KeyPath(parent, key), "true or false");
  return it->get<bool>();
}

absl::StatusOr<std::optional<int64_t>> ConfigContext::OptionalInt(const nlohmann::json& object,
                                                                  std::string_view parent,
                                                                  std::string_view key,
                                                                  int64_t minimum) const {
  auto it = object.find(key);
  if (it == object.end()) return std::optional<int64_t>();
  const std::string expected = absl::StrCat("an integer >= ", minimum);
  if (!it->is_number_integer()) return Expected(KeyPath(parent, key), expected);
  int64_t value = 0;
  if (it->is_number_unsigned()) {
    const uint64_t raw = it->get<uint64_t>();
    if (raw > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Expected(KeyPath(parent, key), absl::StrCat(expected, " and < 2^63"));
    }
    value = static_cast<int64_t>(raw);
  } else {
    value = it->get<int64_t>();
  }
  if (value < minimum) return Expected(KeyPath(parent, key), expected);
  return std::optional<int64_t>(value);
}

absl::StatusOr<std::optional<double>> ConfigContext::OptionalNumber(const nlohmann::json& object,
                                                                    std::string_view parent,
                                                                    std::string_view key) const {
  auto it = object.find(key);
  if (it == object.end()) return std::optional<double>();
  if (!it->is_number()) return Expected(KeyPath(parent, key), "a number");
  return std::optional<double>(it->get<double>());
}

absl::StatusOr<uint64_t> ConfigContext::OptionalSeed(const nlohmann::json& object,
                                                     std::string_view parent, std::string_view key,
                                                     uint64_t fallback) const {
  auto it = object.find(key);
  if (it == object.end()) return fallback;
  // JSON text gives unsigned numbers, YAML (flow.yaml) signed ones: accept both.
  if (!it->is_number_integer() || (!it->is_number_unsigned() && it->get<int64_t>() < 0)) {
    return Expected(KeyPath(parent, key), "an integer in [0, 18446744073709551615]");
  }
  return it->is_number_unsigned() ? it->get<uint64_t>()
                                  : static_cast<uint64_t>(it->get<int64_t>());
}

absl::StatusOr<std::vector<std::string>> ConfigContext::StringList(const nlohmann::json& object,
                                                                   std::string_view parent,
                                                                   std::string_view key,
                                                                   bool allow_empty) const {
  const std::string path = KeyPath(parent, key);
  auto it = object.find(key);
  std::vector<std::string> out;
  if (it == object.end()) {
    if (allow_empty) return out;
    return Error(parent, absl::StrCat("missing required key ", path));
  }
  const char* what = allow_empty ? "an array of column names" : "a non-empty array of column names";
  if (!it->is_array() || (!allow_empty && it->empty())) return Expected(path, what);
  absl::flat_hash_set<std::string> seen;
  for (size_t index = 0; index < it->size(); ++index) {
    const nlohmann::json& item = (*it)[index];
    if (!item.is_string() || item.get_ref<const std::string&>().empty()) {
      return Expected(IndexPath(path, index), "a non-empty string (a column name)");
    }
    std::string name = item.get<std::string>();
    if (!seen.insert(name).second) {
      return Error(IndexPath(path, index), absl::StrCat("column \"", name, "\" is listed twice"));
    }
    out.push_back(std::move(name));
  }
  return out;
}

absl::StatusOr<int> ConfigContext::OptionalChoice(const nlohmann::json& object,
                                                  std::string_view parent, std::string_view key,
                                                  std::initializer_list<std::string_view> choices,
                                                  int fallback) const {
  auto it = object.find(key);
  if (it == object.end()) return fallback;
  if (it->is_string()) {
    int index = 0;
    for (std::string_view choice : choices) {
      if (it->get_ref<const std::string&>() == choice) return index;
      ++index;
    }
  }
  return Expected(KeyPath(parent, key), QuotedChoices(choices));
}

absl::StatusOr<int> FindColumn(const table::Schema& schema, std::string_view recipe,
                               std::string_view role, std::string_view name) {
  const std::optional<int> index = schema.FindField(name);
  if (!index.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Absl(recipe), ": ", Absl(role), " column \"", Absl(name),
                     "\" not found (columns: ", schema.NameList(), ")"));
  }
  return *index;
}

absl::Status CheckNewColumnName(const table::Schema& schema, std::string_view recipe,
                                std::string_view role, std::string_view name) {
  if (schema.FindField(name).has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        Absl(recipe), ": ", Absl(role), " \"", Absl(name),
        "\" is already a column of the input; choose another name with \"", Absl(role), "\""));
  }
  return absl::OkStatus();
}

}  // namespace assay::recipes::reshape
