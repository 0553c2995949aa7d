#include "expr/parser.h"

#include <algorithm>
#include <charconv>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace assay::expr {
namespace {

enum class TokenKind : uint8_t {
  kNumber,
  kString,
  kIdentifier,        // bare name or keyword
  kQuotedIdentifier,  // `name`
  kOperator,
  kLeftParen,
  kRightParen,
  kComma,
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  size_t offset = 0;
  size_t length = 0;
  std::string text;  // unescaped value for strings and quoted names
  Operator op = Operator::kAdd;
  bool is_float = false;  // kNumber
};

bool IsNameStart(unsigned char c) { return absl::ascii_isalpha(c) || c == '_' || c >= 0x80; }
bool IsNameChar(unsigned char c) { return IsNameStart(c) || absl::ascii_isdigit(c); }

absl::Status ErrorAt(std::string_view source, size_t offset, std::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(PositionPrefix(source, offset), Absl(message)));
}

// Splits the source into tokens; the last token is always kEnd.
class Lexer {
 public:
  explicit Lexer(std::string_view source) : source_(source) {}

  absl::StatusOr<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      while (pos_ < source_.size() &&
             absl::ascii_isspace(static_cast<unsigned char>(source_[pos_]))) {
        ++pos_;
      }
      if (pos_ >= source_.size()) break;
      Token token;
      token.offset = pos_;
      const auto status = Next(&token);
      if (!status.ok()) return status;
      token.length = pos_ - token.offset;
      tokens.push_back(std::move(token));
    }
    Token end;
    end.offset = source_.size();
    tokens.push_back(std::move(end));
    return tokens;
  }

 private:
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < source_.size() ? source_[pos_ + ahead] : '\0';
  }

  void SetOperator(Token* token, Operator op, size_t length) {
    token->kind = TokenKind::kOperator;
    token->op = op;
    token->text = std::string(source_.substr(pos_, length));
    pos_ += length;
  }

  absl::Status Next(Token* token) {
    const char c = source_[pos_];
    const auto uc = static_cast<unsigned char>(c);
    if (absl::ascii_isdigit(uc) ||
        (c == '.' && absl::ascii_isdigit(static_cast<unsigned char>(Peek(1))))) {
      return Number(token);
    }
    if (IsNameStart(uc)) {
      while (pos_ < source_.size() && IsNameChar(static_cast<unsigned char>(source_[pos_]))) ++pos_;
      token->text = std::string(source_.substr(token->offset, pos_ - token->offset));
      const std::string lower = absl::AsciiStrToLower(token->text);
      // and/or/not are operators only when bare; `and` in backticks is a column.
      if (lower == "and" || lower == "or" || lower == "not") {
        token->kind = TokenKind::kOperator;
        token->op = lower == "and"  ? Operator::kAnd
                    : lower == "or" ? Operator::kOr
                                    : Operator::kNot;
      } else {
        token->kind = TokenKind::kIdentifier;
      }
      return absl::OkStatus();
    }
    switch (c) {
      case '"':
      case '\'':
        return String(token, c);
      case '`':
        return QuotedName(token);
      case '(':
        token->kind = TokenKind::kLeftParen;
        ++pos_;
        return absl::OkStatus();
      case ')':
        token->kind = TokenKind::kRightParen;
        ++pos_;
        return absl::OkStatus();
      case ',':
        token->kind = TokenKind::kComma;
        ++pos_;
        return absl::OkStatus();
      case '+':
        SetOperator(token, Operator::kAdd, 1);
        return absl::OkStatus();
      case '-':
        SetOperator(token, Operator::kSub, 1);
        return absl::OkStatus();
      case '*':
        SetOperator(token, Operator::kMul, 1);
        return absl::OkStatus();
      case '/':
        SetOperator(token, Operator::kDiv, 1);
        return absl::OkStatus();
      case '%':
        SetOperator(token, Operator::kMod, 1);
        return absl::OkStatus();
      case '=':
        SetOperator(token, Operator::kEq, Peek(1) == '=' ? 2 : 1);
        return absl::OkStatus();
      case '!':
        if (Peek(1) == '=') {
          SetOperator(token, Operator::kNe, 2);
        } else {
          SetOperator(token, Operator::kNot, 1);
        }
        return absl::OkStatus();
      case '<':
        if (Peek(1) == '>') {
          SetOperator(token, Operator::kNe, 2);
        } else if (Peek(1) == '=') {
          SetOperator(token, Operator::kLe, 2);
        } else {
          SetOperator(token, Operator::kLt, 1);
        }
        return absl::OkStatus();
      case '>':
        SetOperator(token, Peek(1) == '=' ? Operator::kGe : Operator::kGt, Peek(1) == '=' ? 2 : 1);
        return absl::OkStatus();
      case '&':
        if (Peek(1) != '&')
          return ErrorAt(source_, pos_, "unexpected \"&\"; write \"and\" or \"&&\"");
        SetOperator(token, Operator::kAnd, 2);
        return absl::OkStatus();
      case '|':
        if (Peek(1) != '|')
          return ErrorAt(source_, pos_, "unexpected \"|\"; write \"or\" or \"||\"");
        SetOperator(token, Operator::kOr, 2);
        return absl::OkStatus();
      default:
        break;
    }
    std::string shown = absl::ascii_isprint(uc)
                            ? std::string(1, c)
                            : absl::StrCat("\\x", absl::Hex(uc, absl::kZeroPad2));
    return ErrorAt(source_, pos_,
                   absl::StrCat("unexpected character \"", shown,
                                "\"; quote column names with symbols in backticks, e.g. `a#b`"));
  }

  absl::Status Number(Token* token) {
    token->kind = TokenKind::kNumber;
    const auto digits = [&] {
      while (absl::ascii_isdigit(static_cast<unsigned char>(Peek()))) ++pos_;
    };
    digits();
    if (Peek() == '.') {
      token->is_float = true;
      ++pos_;
      digits();
    }
    if (Peek() == 'e' || Peek() == 'E') {
      size_t ahead = 1;
      if (Peek(1) == '+' || Peek(1) == '-') ahead = 2;
      if (absl::ascii_isdigit(static_cast<unsigned char>(Peek(ahead)))) {
        token->is_float = true;
        pos_ += ahead;
        digits();
      }
    }
    if (IsNameChar(static_cast<unsigned char>(Peek())) || Peek() == '.') {
      while (IsNameChar(static_cast<unsigned char>(Peek())) || Peek() == '.') ++pos_;
      return ErrorAt(source_, token->offset,
                     absl::StrCat("invalid number \"",
                                  Absl(source_.substr(token->offset, pos_ - token->offset)),
                                  "\"; put an operator between a number and a name, or quote "
                                  "the column name in backticks"));
    }
    token->text = std::string(source_.substr(token->offset, pos_ - token->offset));
    return absl::OkStatus();
  }

  absl::Status String(Token* token, char quote) {
    token->kind = TokenKind::kString;
    ++pos_;
    while (pos_ < source_.size()) {
      const char c = source_[pos_];
      if (c == quote) {
        ++pos_;
        return absl::OkStatus();
      }
      if (c != '\\') {
        token->text.push_back(c);
        ++pos_;
        continue;
      }
      if (pos_ + 1 >= source_.size()) break;
      const char escaped = source_[pos_ + 1];
      switch (escaped) {
        case '\\':
        case '"':
        case '\'':
          token->text.push_back(escaped);
          break;
        case 'n':
          token->text.push_back('\n');
          break;
        case 't':
          token->text.push_back('\t');
          break;
        case 'r':
          token->text.push_back('\r');
          break;
        default:
          return ErrorAt(source_, pos_,
                         "unknown escape in string literal; the escapes are \\\\ \\\" \\' \\n "
                         "\\t \\r");
      }
      pos_ += 2;
    }
    return ErrorAt(
        source_, token->offset,
        absl::StrCat("unterminated string literal; add the closing ", std::string(1, quote)));
  }

  absl::Status QuotedName(Token* token) {
    token->kind = TokenKind::kQuotedIdentifier;
    ++pos_;
    while (pos_ < source_.size()) {
      if (source_[pos_] == '`') {
        // A doubled backtick stands for one backtick inside the name.
        if (Peek(1) == '`') {
          token->text.push_back('`');
          pos_ += 2;
          continue;
        }
        ++pos_;
        if (token->text.empty()) {
          return ErrorAt(source_, token->offset, "empty column name ``");
        }
        return absl::OkStatus();
      }
      token->text.push_back(source_[pos_]);
      ++pos_;
    }
    return ErrorAt(source_, token->offset, "unterminated column name; add the closing `");
  }

  std::string_view source_;
  size_t pos_ = 0;
};

// Binding strength of binary operators; 0 for tokens that are not binary operators.
int Precedence(const Token& token) {
  if (token.kind != TokenKind::kOperator) return 0;
  switch (token.op) {
    case Operator::kOr:
      return 1;
    case Operator::kAnd:
      return 2;
    case Operator::kEq:
    case Operator::kNe:
    case Operator::kLt:
    case Operator::kLe:
    case Operator::kGt:
    case Operator::kGe:
      return 4;
    case Operator::kAdd:
    case Operator::kSub:
      return 5;
    case Operator::kMul:
    case Operator::kDiv:
    case Operator::kMod:
      return 6;
    case Operator::kNot:
    case Operator::kNegate:
      return 0;
  }
  return 0;
}
// "not" binds looser than comparisons: `not a = b` is `not (a = b)`.
constexpr int kNotOperandPrecedence = 4;

class Parser {
 public:
  Parser(std::string_view source, std::vector<Token> tokens)
      : source_(source), tokens_(std::move(tokens)) {}

  absl::StatusOr<std::unique_ptr<SyntaxNode>> Run() {
    if (Peek().kind == TokenKind::kEnd) {
      return ErrorAt(source_, 0, "empty expression; write a formula such as price * quantity");
    }
    auto root = ParseExpression(1);
    if (!root.ok()) return root.status();
    const Token& extra = Peek();
    if (extra.kind == TokenKind::kRightParen) {
      return ErrorAt(source_, extra.offset, "unmatched \")\"; remove it or add a \"(\" before");
    }
    if (extra.kind != TokenKind::kEnd) {
      return ErrorAt(
          source_, extra.offset,
          absl::StrCat("unexpected ", Describe(extra),
                       " after a complete expression; is an operator or comma missing?"));
    }
    return root;
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Take() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }

  std::string Describe(const Token& token) const {
    if (token.kind == TokenKind::kEnd) return "end of expression";
    std::string_view text = source_.substr(token.offset, token.length);
    if (text.size() > 24) return absl::StrCat("\"", Absl(text.substr(0, 20)), "...\"");
    return absl::StrCat("\"", Absl(text), "\"");
  }

  absl::Status CheckHeight(const SyntaxNode& node) const {
    if (node.height > kMaxNestingDepth) {
      return ErrorAt(source_, node.offset,
                     absl::StrCat("expression is nested too deeply (more than ", kMaxNestingDepth,
                                  " levels); split it into several formulas"));
    }
    return absl::OkStatus();
  }

  // Tracks recursion so that "((((...", which adds no nodes, is bounded too.
  struct DepthGuard {
    explicit DepthGuard(int* depth) : depth(depth) { ++*depth; }
    ~DepthGuard() { --*depth; }
    int* depth;
  };

  absl::Status CheckDepth(size_t offset) const {
    if (depth_ > kMaxNestingDepth) {
      return ErrorAt(source_, offset,
                     absl::StrCat("expression is nested too deeply (more than ", kMaxNestingDepth,
                                  " levels); split it into several formulas"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<SyntaxNode>> ParseExpression(int min_precedence) {
    DepthGuard guard(&depth_);
    if (auto status = CheckDepth(Peek().offset); !status.ok()) return status;
    auto left = ParseUnary();
    if (!left.ok()) return left.status();
    std::unique_ptr<SyntaxNode> node = std::move(*left);
    while (true) {
      const int precedence = Precedence(Peek());
      if (precedence == 0 || precedence < min_precedence) break;
      const Token& op_token = Take();
      // Left-associative: the right side only takes tighter operators.
      auto right = ParseExpression(precedence + 1);
      if (!right.ok()) return right.status();
      auto binary = std::make_unique<SyntaxNode>();
      binary->kind = SyntaxKind::kBinary;
      binary->offset = op_token.offset;
      binary->op = op_token.op;
      binary->text = op_token.text;
      binary->height = 1 + std::max(node->height, (*right)->height);
      binary->children.push_back(std::move(node));
      binary->children.push_back(std::move(*right));
      if (auto status = CheckHeight(*binary); !status.ok()) return status;
      node = std::move(binary);
    }
    return node;
  }

  absl::StatusOr<std::unique_ptr<SyntaxNode>> ParseUnary() {
    const Token& token = Peek();
    if (token.kind == TokenKind::kOperator &&
        (token.op == Operator::kNot || token.op == Operator::kSub || token.op == Operator::kAdd)) {
      const Token& op_token = Take();
      // "-9223372036854775808" must parse although its magnitude does not fit in int64.
      if (op_token.op == Operator::kSub && Peek().kind == TokenKind::kNumber && !Peek().is_float) {
        const Token& number = Peek();
        int64_t value = 0;
        const std::string text = absl::StrCat("-", number.text);
        const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
        if (result.ec == std::errc() && result.ptr == text.data() + text.size()) {
          Take();
          auto literal = std::make_unique<SyntaxNode>();
          literal->kind = SyntaxKind::kInteger;
          literal->offset = op_token.offset;
          literal->int_value = value;
          return literal;
        }
      }
      DepthGuard guard(&depth_);
      if (auto status = CheckDepth(op_token.offset); !status.ok()) return status;
      auto operand =
          op_token.op == Operator::kNot ? ParseExpression(kNotOperandPrecedence) : ParseUnary();
      if (!operand.ok()) return operand.status();
      auto unary = std::make_unique<SyntaxNode>();
      unary->kind = SyntaxKind::kUnary;
      unary->offset = op_token.offset;
      // Unary plus stays kAdd so the binder can insist on a number, then drops it.
      unary->op = op_token.op == Operator::kSub ? Operator::kNegate : op_token.op;
      unary->text = op_token.text;
      unary->height = 1 + (*operand)->height;
      unary->children.push_back(std::move(*operand));
      if (auto status = CheckHeight(*unary); !status.ok()) return status;
      return unary;
    }
    return ParsePrimary();
  }

  absl::StatusOr<std::unique_ptr<SyntaxNode>> ParsePrimary() {
    const Token& token = Take();
    auto node = std::make_unique<SyntaxNode>();
    node->offset = token.offset;
    switch (token.kind) {
      case TokenKind::kNumber:
        return ParseNumber(token);
      case TokenKind::kString:
        node->kind = SyntaxKind::kString;
        node->text = token.text;
        return node;
      case TokenKind::kQuotedIdentifier:
        node->kind = SyntaxKind::kColumn;
        node->text = token.text;
        return node;
      case TokenKind::kIdentifier: {
        if (Peek().kind == TokenKind::kLeftParen) return ParseCall(token);
        const std::string lower = absl::AsciiStrToLower(token.text);
        if (lower == "true" || lower == "false") {
          node->kind = SyntaxKind::kBool;
          node->bool_value = lower == "true";
        } else if (lower == "null") {
          node->kind = SyntaxKind::kNull;
        } else {
          node->kind = SyntaxKind::kColumn;
          node->text = token.text;
        }
        return node;
      }
      case TokenKind::kLeftParen: {
        auto inner = ParseExpression(1);
        if (!inner.ok()) return inner.status();
        if (Peek().kind != TokenKind::kRightParen) {
          return ErrorAt(
              source_, Peek().offset,
              absl::StrCat("expected \")\" to close the \"(\" at position ",
                           CharacterPosition(source_, token.offset), ", found ", Describe(Peek())));
        }
        Take();
        return inner;
      }
      case TokenKind::kEnd:
        return ErrorAt(source_, token.offset, "expression ends early; expected a value");
      case TokenKind::kRightParen:
      case TokenKind::kComma:
      case TokenKind::kOperator:
        return ErrorAt(source_, token.offset,
                       absl::StrCat("unexpected ", Describe(token),
                                    "; expected a value (a number, \"text\", a column or a "
                                    "function call)"));
    }
    return ErrorAt(source_, token.offset, "unexpected token");
  }

  absl::StatusOr<std::unique_ptr<SyntaxNode>> ParseNumber(const Token& token) {
    auto node = std::make_unique<SyntaxNode>();
    node->offset = token.offset;
    const char* begin = token.text.data();
    const char* end = begin + token.text.size();
    if (!token.is_float) {
      node->kind = SyntaxKind::kInteger;
      const auto result = std::from_chars(begin, end, node->int_value);
      if (result.ec == std::errc() && result.ptr == end) return node;
      return ErrorAt(
          source_, token.offset,
          absl::StrCat("integer ", token.text, " does not fit in int64; write it as a float, e.g. ",
                       token.text, ".0"));
    }
    node->kind = SyntaxKind::kFloat;
    const auto result = std::from_chars(begin, end, node->float_value);
    if (result.ptr == end &&
        (result.ec == std::errc() || result.ec == std::errc::result_out_of_range)) {
      if (result.ec == std::errc::result_out_of_range) {
        return ErrorAt(source_, token.offset,
                       absl::StrCat("number ", token.text, " is out of the float64 range"));
      }
      return node;
    }
    return ErrorAt(source_, token.offset, absl::StrCat("invalid number \"", token.text, "\""));
  }

  absl::StatusOr<std::unique_ptr<SyntaxNode>> ParseCall(const Token& name) {
    auto call = std::make_unique<SyntaxNode>();
    call->kind = SyntaxKind::kCall;
    call->offset = name.offset;
    call->text = name.text;
    Take();  // "("
    if (Peek().kind == TokenKind::kRightParen) {
      Take();
      return call;
    }
    while (true) {
      auto argument = ParseExpression(1);
      if (!argument.ok()) return argument.status();
      call->height = std::max(call->height, 1 + (*argument)->height);
      call->children.push_back(std::move(*argument));
      if (auto status = CheckHeight(*call); !status.ok()) return status;
      const Token& next = Take();
      if (next.kind == TokenKind::kRightParen) return call;
      if (next.kind != TokenKind::kComma) {
        return ErrorAt(source_, next.offset,
                       absl::StrCat("expected \",\" or \")\" in the arguments of ", name.text,
                                    "(), found ", Describe(next)));
      }
    }
  }

  std::string_view source_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

size_t CharacterPosition(std::string_view source, size_t byte_offset) {
  byte_offset = std::min(byte_offset, source.size());
  // UTF-8 continuation bytes (10xxxxxx) do not start a character.
  size_t characters = 0;
  for (size_t i = 0; i < byte_offset; ++i) {
    if ((static_cast<unsigned char>(source[i]) & 0xC0) != 0x80) ++characters;
  }
  return characters + 1;
}

std::string PositionPrefix(std::string_view source, size_t byte_offset) {
  return absl::StrCat("position ", CharacterPosition(source, byte_offset), ": ");
}

absl::StatusOr<std::unique_ptr<SyntaxNode>> Parse(std::string_view source) {
  Lexer lexer(source);
  auto tokens = lexer.Run();
  if (!tokens.ok()) return tokens.status();
  Parser parser(source, std::move(*tokens));
  return parser.Run();
}

}  // namespace assay::expr
