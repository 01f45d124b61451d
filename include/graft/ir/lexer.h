// The tokenizer shared by the graph text form and the rule-file language:
// identifiers (op names may contain `::` and `.`), `%value` and `@graph`
// names, integers, floats, strings, punctuation, and `#` comments. Every
// token knows its line and column, so errors point at the source.
#ifndef GRAFT_IR_LEXER_H_
#define GRAFT_IR_LEXER_H_

#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "graft/ir/status.h"

namespace graft {

struct Token {
  enum Kind { kEnd, kIdent, kValueName, kGraphName, kInt, kFloat, kString, kPunct, kError };
  Kind kind = kEnd;
  absl::string_view text;  // the source text (for kString: without quotes, unescaped in str)
  std::string str;        // unescaped string contents
  int64_t int_value = 0;
  double float_value = 0;
  int line = 1, col = 1;

  bool is(absl::string_view punct) const {
    return (kind == kPunct || kind == kIdent) && text == punct;
  }
  std::string Describe() const {
    switch (kind) {
      case kEnd: return "end of input";
      case kString: return absl::StrCat("string \"", str, "\"");
      case kError: return std::string(str);
      // `text` lacks the sigil; the reader wrote it.
      case kValueName: return absl::StrCat("'%", text, "'");
      case kGraphName: return absl::StrCat("'@", text, "'");
      default: return absl::StrCat("'", text, "'");
    }
  }
};

class Lexer {
 public:
  Lexer(absl::string_view src, absl::string_view filename) : src_(src), file_(filename) {}

  // "file:line:col: msg" for a token's position.
  std::string Where(const Token& t) const { return absl::StrCat(file_, ":", t.line, ":", t.col); }
  absl::Status Error(const Token& t, absl::string_view msg) const {
    return WithErrorKind(absl::InvalidArgumentError(absl::StrCat(Where(t), ": ", msg)),
                         ErrorKind::kSyntax);
  }
  absl::string_view filename() const { return file_; }

  Token Next() {
    SkipSpaceAndComments();
    Token t;
    t.line = line_;
    t.col = col_;
    if (pos_ >= src_.size()) return t;
    size_t start = pos_;
    char c = src_[pos_];
    if (c == '%' || c == '@') {
      Advance();
      while (pos_ < src_.size() && IsNameChar(src_[pos_])) Advance();
      t.kind = c == '%' ? Token::kValueName : Token::kGraphName;
      t.text = src_.substr(start + 1, pos_ - start - 1);
      if (t.text.empty()) return Fail(t, absl::StrCat("expected a name after '", std::string(1, c), "'"));
      return t;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      while (pos_ < src_.size()) {
        char d = src_[pos_];
        if (std::isalnum(static_cast<unsigned char>(d)) || d == '_') {
          Advance();
        } else if (d == ':' && Peek(1) == ':' && IsIdentStart(Peek(2))) {
          Advance(), Advance();
        } else if (d == '.' && IsIdentStart(Peek(1))) {
          Advance();
        } else {
          break;
        }
      }
      t.kind = Token::kIdent;
      t.text = src_.substr(start, pos_ - start);
      return t;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) return Number(t, start);
    if (c == '"') return String(t);
    static constexpr absl::string_view kTwo[] = {"->", "==", "!=", "<=", ">="};
    for (absl::string_view p : kTwo) {
      if (src_.substr(pos_, 2) == p) {
        Advance(), Advance();
        t.kind = Token::kPunct;
        t.text = src_.substr(start, 2);
        return t;
      }
    }
    if (absl::string_view("()[]{},:=|<>+-*/?").find(c) != absl::string_view::npos) {
      Advance();
      t.kind = Token::kPunct;
      t.text = src_.substr(start, 1);
      return t;
    }
    Advance();
    return Fail(t, absl::StrCat("unexpected character '", std::string(1, c), "'"));
  }

 private:
  static bool IsNameChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
  }
  static bool IsIdentStart(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
  }
  char Peek(size_t k) const { return pos_ + k < src_.size() ? src_[pos_ + k] : '\0'; }
  // Line and column saturate at INT_MAX: inputs may be larger than 2 GiB
  // (graft-opt reads up to kMaxInputFileBytes), positions past that are
  // reported as INT_MAX rather than overflowing.
  void Advance() {
    if (src_[pos_] == '\n') {
      if (line_ < std::numeric_limits<int>::max()) ++line_;
      col_ = 1;
    } else if (col_ < std::numeric_limits<int>::max()) {
      ++col_;
    }
    ++pos_;
  }
  void SkipSpaceAndComments() {
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == '#') {
        while (pos_ < src_.size() && src_[pos_] != '\n') Advance();
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        Advance();
      } else {
        break;
      }
    }
  }
  Token Fail(Token t, std::string msg) {
    t.kind = Token::kError;
    t.str = std::move(msg);
    return t;
  }
  Token Number(Token t, size_t start) {
    bool is_float = false;
    while (pos_ < src_.size() && std::isdigit(static_cast<unsigned char>(src_[pos_]))) Advance();
    if (pos_ < src_.size() && src_[pos_] == '.' && std::isdigit(static_cast<unsigned char>(Peek(1)))) {
      is_float = true;
      Advance();
      while (pos_ < src_.size() && std::isdigit(static_cast<unsigned char>(src_[pos_]))) Advance();
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      size_t k = 1;
      if (Peek(1) == '+' || Peek(1) == '-') k = 2;
      if (std::isdigit(static_cast<unsigned char>(Peek(k)))) {
        is_float = true;
        for (size_t i = 0; i < k; ++i) Advance();
        while (pos_ < src_.size() && std::isdigit(static_cast<unsigned char>(src_[pos_]))) Advance();
      }
    }
    t.text = src_.substr(start, pos_ - start);
    if (is_float) {
      t.kind = Token::kFloat;
      if (!absl::SimpleAtod(t.text, &t.float_value)) return Fail(t, "malformed number");
      // SimpleAtod turns an overflow into inf; digits never mean infinity.
      if (std::isinf(t.float_value))
        return Fail(t, absl::StrCat("number ", t.text, " is out of range of a double (write inf)"));
    } else {
      t.kind = Token::kInt;
      if (!absl::SimpleAtoi(t.text, &t.int_value))
        return Fail(t, absl::StrCat("integer ", t.text, " is out of range"));
    }
    return t;
  }
  Token String(Token t) {
    size_t start = pos_;
    Advance();
    while (pos_ < src_.size() && src_[pos_] != '"') {
      if (src_[pos_] == '\n') return Fail(t, "unterminated string");
      if (src_[pos_] == '\\' && pos_ + 1 < src_.size()) {
        Advance();
        char e = src_[pos_];
        t.str.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
      } else {
        t.str.push_back(src_[pos_]);
      }
      Advance();
    }
    if (pos_ >= src_.size()) return Fail(t, "unterminated string");
    Advance();
    t.kind = Token::kString;
    t.text = src_.substr(start, pos_ - start);
    return t;
  }

  absl::string_view src_;
  std::string file_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
};

// A one-token-lookahead cursor for recursive-descent parsers.
class TokenCursor {
 public:
  TokenCursor(absl::string_view src, absl::string_view filename) : lex_(src, filename) {
    tok_ = lex_.Next();
  }

  const Token& tok() const { return tok_; }
  const Lexer& lexer() const { return lex_; }
  Token Take() {
    Token t = std::move(tok_);
    tok_ = lex_.Next();
    return t;
  }
  // Consumes `punct` if it is next.
  bool Accept(absl::string_view punct) {
    if (!tok_.is(punct)) return false;
    Take();
    return true;
  }
  // An error at the current token: "file:3:7: expected ')' after arguments, got ','".
  absl::Status Expected(absl::string_view what) const {
    if (tok_.kind == Token::kError) return lex_.Error(tok_, tok_.str);
    return lex_.Error(tok_, absl::StrCat("expected ", what, ", got ", tok_.Describe()));
  }
  absl::Status Expect(absl::string_view punct, absl::string_view context = "") {
    if (Accept(punct)) return absl::OkStatus();
    return Expected(context.empty() ? absl::StrCat("'", punct, "'")
                                    : absl::StrCat("'", punct, "' ", context));
  }
  absl::Status ErrorAt(const Token& t, absl::string_view msg) const { return lex_.Error(t, msg); }

 private:
  Lexer lex_;
  Token tok_;
};

}  // namespace graft

#endif  // GRAFT_IR_LEXER_H_
