#include "quality/message_text.h"

#include <string>

#include "gtest/gtest.h"

namespace assay::quality {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";

TEST(MessageText, KeepsValidUtf8) {
  const std::string text = "ONC \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x92\x8A";  // é € 💊
  EXPECT_EQ(CleanText(text, std::string::npos), text);
}

TEST(MessageText, ReplacesInvalidSequences) {
  EXPECT_EQ(CleanText("a\xFF"
                      "b",
                      std::string::npos),
            std::string("a") + kReplacement + "b");
  // Overlong "/" (C0 AF), a UTF-16 surrogate (ED A0 80), beyond U+10FFFF (F4 90 80 80) and a
  // truncated sequence at the end: each bad byte becomes one replacement character.
  EXPECT_EQ(CleanText("\xC0\xAF", std::string::npos), std::string(kReplacement) + kReplacement);
  EXPECT_EQ(CleanText("\xED\xA0\x80", std::string::npos),
            std::string(kReplacement) + kReplacement + kReplacement);
  EXPECT_EQ(CleanText("\xF4\x90\x80\x80", std::string::npos),
            std::string(kReplacement) + kReplacement + kReplacement + kReplacement);
  EXPECT_EQ(CleanText("x\xE2\x82", std::string::npos),
            std::string("x") + kReplacement + kReplacement);
}

TEST(MessageText, CutsAtCodePointBoundary) {
  EXPECT_EQ(CleanText("abcdef", 4), "abcd...");
  EXPECT_EQ(CleanText("abcd", 4), "abcd");
  // "é" is two bytes and would straddle the limit: it is left out whole.
  EXPECT_EQ(CleanText("abc\xC3\xA9", 4), "abc...");
}

TEST(MessageText, OneLineReplacesControlCharacters) {
  EXPECT_EQ(OneLine("a\nb\tc\x7F"
                    "d"),
            "a b c d");
}

TEST(MessageText, QuotesAsJson) {
  EXPECT_EQ(QuoteText("a\"b\n"), "\"a\\\"b\\n\"");
  EXPECT_EQ(QuoteText("\xFF"), std::string("\"") + kReplacement + "\"");
  EXPECT_EQ(QuoteJson(nlohmann::json(1.5)), "1.5");
  EXPECT_EQ(FormatNumber(0.01), "0.01");
  EXPECT_EQ(FormatNumber(1e-7), "1e-07");
}

}  // namespace
}  // namespace assay::quality
