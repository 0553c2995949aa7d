// The formula language's front end: a lexer and a precedence-climbing parser that turn source
// text into an untyped syntax tree. Names are not resolved and types are not checked here;
// binder.h does that against a schema. Every node remembers the byte offset of the token that
// produced it so later stages can report "position N: ..." errors.
//
// Internal to assay_expr. Pure functions; thread-safe.
#ifndef ASSAY_EXPR_PARSER_H_
#define ASSAY_EXPR_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace assay::expr {

// Deeper trees are rejected, which bounds the recursion of the parser, binder and evaluator
// (hostile inputs such as 100k nested parentheses must not overflow the stack).
inline constexpr int kMaxNestingDepth = 256;

enum class Operator : uint8_t {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,
  kOr,
  kNot,     // unary
  kNegate,  // unary minus
};

enum class SyntaxKind : uint8_t {
  kInteger,  // int_value
  kFloat,    // float_value
  kString,   // text holds the unescaped value
  kBool,     // bool_value
  kNull,
  kColumn,  // text holds the column name (bare or from `backticks`)
  kCall,    // text holds the function name as written; children are the arguments
  kUnary,   // op (kNot, kNegate, or kAdd for unary plus), one child
  kBinary,  // op, two children
};

struct SyntaxNode {
  SyntaxKind kind = SyntaxKind::kNull;
  // Byte offset of the token that names the node: the literal, the name, or the operator.
  size_t offset = 0;
  Operator op = Operator::kAdd;
  // For operators, the spelling used in the source ("<>", "&&", ...), so errors quote it.
  std::string text;
  int64_t int_value = 0;
  double float_value = 0.0;
  bool bool_value = false;
  // Height of the subtree (a leaf is 1), bounded by kMaxNestingDepth.
  int height = 1;
  std::vector<std::unique_ptr<SyntaxNode>> children;
};

// Parses a whole expression.
// Errors: INVALID_ARGUMENT "position N: ..." for any lexical or syntax error, or nesting deeper
// than kMaxNestingDepth.
absl::StatusOr<std::unique_ptr<SyntaxNode>> Parse(std::string_view source);

// The 1-based character (UTF-8 code point) position of `byte_offset` in `source`.
size_t CharacterPosition(std::string_view source, size_t byte_offset);

// "position N: " where N is the 1-based character (UTF-8 code point) position of
// `byte_offset` in `source`.
std::string PositionPrefix(std::string_view source, size_t byte_offset);

}  // namespace assay::expr

#endif  // ASSAY_EXPR_PARSER_H_
