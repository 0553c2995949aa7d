// The named inputs shared by the recipes that hand work to another engine (sql_recipe.h,
// python_recipe.h): each input table under the name the engine sees it by (the SQLite table
// name, the name a Python script passes to assay_recipe.input_rows).
//
// A plain alias; no state, thread-safe.
#ifndef ASSAY_RECIPES_EXTERNAL_INPUTS_H_
#define ASSAY_RECIPES_EXTERNAL_INPUTS_H_

#include <string>
#include <utility>
#include <vector>

#include "table/table.h"

namespace assay::recipes {

// Inputs in the order the recipe declares them. The tables are borrowed: they must outlive
// the run call.
using ExternalInputs = std::vector<std::pair<std::string, const table::Table*>>;

}  // namespace assay::recipes

#endif  // ASSAY_RECIPES_EXTERNAL_INPUTS_H_
