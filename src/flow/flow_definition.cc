#include "flow/flow_definition.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <functional>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "catalog/dataset_ref.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "flow/score_recipe.h"
#include "quality/quality_rules.h"
#include "recipes/recipe.h"
#include "yaml-cpp/yaml.h"

namespace assay::flow {
namespace {

std::string Where(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.line >= 0 ? absl::StrCat("line ", mark.line + 1, ": ") : std::string();
}

// YAML 1.2 core schema resolution of a plain scalar: null, booleans, integers, floats;
// anything else is a string.
nlohmann::json PlainScalar(const std::string& text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  const size_t digits_from = (text[0] == '-' || text[0] == '+') ? 1 : 0;
  const bool all_digits = text.size() > digits_from &&
                          text.find_first_not_of("0123456789", digits_from) == std::string::npos;
  const char* begin = text.c_str();
  char* end = nullptr;
  if (all_digits) {
    errno = 0;
    const long long integer = std::strtoll(begin, &end, 10);
    if (errno == 0) return static_cast<int64_t>(integer);
  }
  // Floats: digits with a '.' or an exponent ("inf"/"nan" words stay strings).
  if (text.find_first_of("0123456789") != std::string::npos &&
      text.find_first_not_of("0123456789+-.eE") == std::string::npos) {
    errno = 0;
    const double value = std::strtod(begin, &end);
    if (end == begin + text.size() && errno == 0) return value;
  }
  if (text == ".inf" || text == "+.inf") return std::numeric_limits<double>::infinity();
  if (text == "-.inf") return -std::numeric_limits<double>::infinity();
  return text;
}

absl::StatusOr<nlohmann::json> NodeToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      // yaml-cpp tags quoted scalars "!" and plain ones "?".
      if (node.Tag() == "!") return nlohmann::json(node.Scalar());
      return PlainScalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      nlohmann::json array = nlohmann::json::array();
      for (const auto& item : node) {
        ASSAY_ASSIGN_OR_RETURN(nlohmann::json value, NodeToJson(item));
        array.push_back(std::move(value));
      }
      return array;
    }
    case YAML::NodeType::Map: {
      nlohmann::json object = nlohmann::json::object();
      for (const auto& item : node) {
        if (!item.first.IsScalar()) {
          return absl::InvalidArgumentError(
              absl::StrCat(Where(item.first), "mapping keys must be plain names"));
        }
        const std::string key = item.first.Scalar();
        if (object.contains(key)) {
          return absl::InvalidArgumentError(
              absl::StrCat(Where(item.first), "duplicate key \"", key, "\""));
        }
        ASSAY_ASSIGN_OR_RETURN(object[key], NodeToJson(item.second));
      }
      return object;
    }
  }
  return nullptr;
}

void EmitJson(YAML::Emitter& out, const nlohmann::json& json) {
  switch (json.type()) {
    case nlohmann::json::value_t::null:
      out << YAML::Null;
      break;
    case nlohmann::json::value_t::boolean:
      out << (json.get<bool>() ? "true" : "false");
      break;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      out << json.dump();
      break;
    case nlohmann::json::value_t::string: {
      const std::string& text = json.get_ref<const std::string&>();
      // Quote strings that would read back as something else.
      if (!PlainScalar(text).is_string()) {
        out << YAML::DoubleQuoted << text;
      } else {
        out << text;
      }
      break;
    }
    case nlohmann::json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& item : json) EmitJson(out, item);
      out << YAML::EndSeq;
      break;
    case nlohmann::json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [key, value] : json.items()) {
        out << YAML::Key << key << YAML::Value;
        EmitJson(out, value);
      }
      out << YAML::EndMap;
      break;
    default:
      out << json.dump();
  }
}

absl::Status KeyError(std::string_view where, std::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("flow.yaml: ", std::string(where), ": ", std::string(message)));
}

absl::StatusOr<std::vector<std::string>> NameList(const nlohmann::json& json,
                                                  const std::string& where) {
  std::vector<std::string> names;
  if (json.is_string()) {
    names.push_back(json.get<std::string>());
    return names;
  }
  if (!json.is_array()) return KeyError(where, "expected a list of dataset names");
  for (const auto& item : json) {
    if (!item.is_string()) return KeyError(where, "expected a list of dataset names");
    names.push_back(item.get<std::string>());
  }
  return names;
}

}  // namespace

absl::StatusOr<nlohmann::json> YamlToJson(std::string_view text) {
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    return NodeToJson(root);
  } catch (const YAML::Exception& error) {
    return absl::InvalidArgumentError(absl::StrCat("invalid YAML at line ", error.mark.line + 1,
                                                   ", column ", error.mark.column + 1, ": ",
                                                   error.msg));
  }
}

std::string JsonToYaml(const nlohmann::json& json) {
  YAML::Emitter out;
  out.SetIndent(2);
  EmitJson(out, json);
  return std::string(out.c_str()) + "\n";
}

absl::StatusOr<FlowDefinition> ParseFlowYaml(std::string_view text) {
  ASSAY_ASSIGN_OR_RETURN(const nlohmann::json root, YamlToJson(text));
  FlowDefinition flow;
  if (root.is_null()) return flow;
  if (!root.is_object()) {
    return KeyError("top level", "expected a mapping with project, datasets and recipes");
  }
  for (const auto& [key, value] : root.items()) {
    if (key != "project" && key != "datasets" && key != "recipes") {
      return KeyError(key, "unknown key (known: project, datasets, recipes)");
    }
  }
  if (root.contains("project")) {
    if (!root["project"].is_string()) return KeyError("project", "expected a project key");
    flow.project = root["project"].get<std::string>();
  }
  if (root.contains("datasets") && !root["datasets"].is_null()) {
    const auto& datasets = root["datasets"];
    if (!datasets.is_object()) return KeyError("datasets", "expected a mapping of dataset names");
    for (const auto& [name, value] : datasets.items()) {
      const std::string where = absl::StrCat("datasets.", name);
      ASSAY_RETURN_IF_ERROR(catalog::ValidateDatasetName(name));
      DatasetDeclaration declaration;
      if (!value.is_null()) {
        if (!value.is_object()) return KeyError(where, "expected a mapping with checks");
        for (const auto& [key, item] : value.items()) {
          if (key != "checks") return KeyError(where + "." + key, "unknown key (known: checks)");
          if (!item.is_array()) return KeyError(where + ".checks", "expected a list of rules");
          declaration.checks = item;
        }
      }
      flow.datasets[name] = std::move(declaration);
    }
  }
  if (root.contains("recipes") && !root["recipes"].is_null()) {
    const auto& recipes = root["recipes"];
    if (!recipes.is_array()) return KeyError("recipes", "expected a list of recipes");
    for (size_t index = 0; index < recipes.size(); ++index) {
      const auto& item = recipes[index];
      std::string where = absl::StrCat("recipes[", index + 1, "]");
      if (!item.is_object()) return KeyError(where, "expected a mapping");
      catalog::RecipeDefinition recipe;
      if (!item.contains("name") || !item["name"].is_string()) {
        return KeyError(where, "needs a name");
      }
      recipe.name = item["name"].get<std::string>();
      where = absl::StrCat(where, " (", recipe.name, ")");
      for (const auto& [key, value] : item.items()) {
        if (key == "name") continue;
        if (key == "type") {
          if (!value.is_string()) return KeyError(where + ".type", "expected a recipe type");
          recipe.type = value.get<std::string>();
        } else if (key == "inputs") {
          ASSAY_ASSIGN_OR_RETURN(recipe.inputs, NameList(value, where + ".inputs"));
        } else if (key == "outputs") {
          ASSAY_ASSIGN_OR_RETURN(recipe.outputs, NameList(value, where + ".outputs"));
        } else if (key == "config") {
          if (!value.is_object()) return KeyError(where + ".config", "expected a mapping");
          recipe.config = value;
        } else {
          return KeyError(where + "." + key,
                          "unknown key (known: name, type, inputs, outputs, config)");
        }
      }
      if (recipe.type.empty()) return KeyError(where, "needs a type");
      flow.recipes.push_back(std::move(recipe));
    }
  }
  return flow;
}

absl::Status ValidateFlow(const FlowDefinition& flow) {
  if (!flow.project.empty()) ASSAY_RETURN_IF_ERROR(catalog::ValidateProjectKey(flow.project));
  std::map<std::string, std::string> producer;  // dataset -> recipe
  std::set<std::string> recipe_names;
  for (const auto& recipe : flow.recipes) {
    const std::string where = absl::StrCat("recipe ", recipe.name);
    ASSAY_RETURN_IF_ERROR(catalog::ValidateRecipeName(recipe.name));
    if (!recipe_names.insert(recipe.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("flow.yaml: two recipes are named ", recipe.name));
    }
    if (recipe.outputs.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": needs at least one output"));
    }
    for (const auto& name : recipe.inputs) {
      ASSAY_RETURN_IF_ERROR(catalog::ValidateDatasetName(name));
    }
    for (const auto& name : recipe.outputs) {
      ASSAY_RETURN_IF_ERROR(catalog::ValidateDatasetName(name));
      auto [it, inserted] = producer.emplace(name, recipe.name);
      if (!inserted) {
        return absl::InvalidArgumentError(absl::StrCat("dataset ", name, " is written by both ",
                                                       it->second, " and ", recipe.name,
                                                       "; a dataset has one producing recipe"));
      }
      for (const auto& input : recipe.inputs) {
        if (input == name) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": reads and writes ", name, "; write a new dataset instead"));
        }
      }
    }
    absl::Status status = recipes::ValidateRecipe(recipe.type, recipe.config, recipe.inputs.size(),
                                                  recipe.outputs.size());
    if (status.ok() && recipe.type == kScoreRecipeType) {
      status = ParseScoreSpec(recipe.config, flow.project).status();
    }
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", status.message()));
    }
  }
  // Cycles: depth-first search over recipe -> recipes producing its inputs.
  std::map<std::string, const catalog::RecipeDefinition*> by_name;
  for (const auto& recipe : flow.recipes) by_name[recipe.name] = &recipe;
  std::map<std::string, int> state;  // 0 new, 1 on stack, 2 done
  std::vector<std::string> stack;
  std::function<absl::Status(const std::string&)> visit =
      [&](const std::string& name) -> absl::Status {
    int& mark = state[name];
    if (mark == 2) return absl::OkStatus();
    if (mark == 1) {
      auto begin = std::find(stack.begin(), stack.end(), name);
      std::vector<std::string> cycle(begin, stack.end());
      cycle.push_back(name);
      return absl::InvalidArgumentError(
          absl::StrCat("the flow has a cycle: ", absl::StrJoin(cycle, " -> ")));
    }
    mark = 1;
    stack.push_back(name);
    for (const auto& input : by_name[name]->inputs) {
      auto it = producer.find(input);
      if (it != producer.end()) ASSAY_RETURN_IF_ERROR(visit(it->second));
    }
    stack.pop_back();
    state[name] = 2;
    return absl::OkStatus();
  };
  for (const auto& recipe : flow.recipes) ASSAY_RETURN_IF_ERROR(visit(recipe.name));

  for (const auto& [name, declaration] : flow.datasets) {
    auto rules = quality::ParseRules(declaration.checks);
    if (!rules.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("dataset ", name, " checks: ", rules.status().message()));
    }
  }
  return absl::OkStatus();
}

absl::Status InlineScriptFile(catalog::RecipeDefinition& recipe,
                              const std::filesystem::path& base_dir) {
  if (recipe.type != "python" || !recipe.config.is_object() ||
      !recipe.config.contains("script_file")) {
    return absl::OkStatus();
  }
  const auto& file = recipe.config["script_file"];
  if (!file.is_string()) return absl::OkStatus();  // ValidateFlow reports the type error
  std::filesystem::path path = file.get<std::string>();
  if (path.is_relative()) path = base_dir / path;
  absl::StatusOr<std::string> text = common::ReadFile(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("recipe ", recipe.name, ": cannot read script_file ",
                                     path.string(), ": ", text.status().message()));
  }
  recipe.config.erase("script_file");
  recipe.config["script"] = *text;
  return absl::OkStatus();
}

absl::Status InlineScriptFiles(FlowDefinition& flow, const std::filesystem::path& base_dir) {
  for (auto& recipe : flow.recipes) ASSAY_RETURN_IF_ERROR(InlineScriptFile(recipe, base_dir));
  return absl::OkStatus();
}

std::string FlowToYaml(const FlowDefinition& flow) {
  YAML::Emitter out;
  out.SetIndent(2);
  out << YAML::BeginMap;
  if (!flow.project.empty()) out << YAML::Key << "project" << YAML::Value << flow.project;
  if (!flow.datasets.empty()) {
    out << YAML::Key << "datasets" << YAML::Value << YAML::BeginMap;
    for (const auto& [name, declaration] : flow.datasets) {
      out << YAML::Key << name << YAML::Value << YAML::BeginMap;
      out << YAML::Key << "checks" << YAML::Value;
      EmitJson(out, declaration.checks);
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  out << YAML::Key << "recipes" << YAML::Value << YAML::BeginSeq;
  for (const auto& recipe : flow.recipes) {
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << recipe.name;
    out << YAML::Key << "type" << YAML::Value << recipe.type;
    out << YAML::Key << "inputs" << YAML::Value << YAML::Flow;
    EmitJson(out, recipe.inputs);
    out << YAML::Key << "outputs" << YAML::Value << YAML::Flow;
    EmitJson(out, recipe.outputs);
    out << YAML::Key << "config" << YAML::Value;
    EmitJson(out, recipe.config);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace assay::flow
