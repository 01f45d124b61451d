// Random instances of a rule's left-hand side, for graft-opt --prove.
//
// One try walks the rule's pattern (its syntax tree, aliases substituted)
// bottom-up and builds a graph with graft's Builder:
//   - a tensor variable or `_` becomes a graph input: its rank random (2
//     under a builtin `transpose`), its dims drawn from a pool of two or
//     three sizes per try (so dims the constraints want equal often are), its
//     dtype the try's float dtype (f32, f16, bf16 in turn) or now and then
//     an integer one; `const`/`param`/`buffer`/`input` give its input kind;
//   - `a | b` and `transpose(p)` pick a branch / a spelling
//     (TransposeP::Forms()), in turn across instances so that each is
//     covered, at random on retries;
//   - a literal variable or `_` in a literal position draws a value fitting
//     its parameter (sizes derived from the operands' shapes for view and
//     expand, dims within the rank, scales, zero points and one consistent
//     range and dtype for the quantize ops, ...) or one its constraints
//     name; a variable used twice keeps its first value;
//   - each op is built through its shape function, which rejects ill-typed
//     tries.
// A try becomes an instance only if the rule itself then matches at the
// root, its constraints hold and Rule::Apply rewrites a copy of the graph:
// what is proven is what the driver does. Everything here is C++17 and
// deterministic given the seed.
#ifndef GRAFT_PROVE_SAMPLER_H_
#define GRAFT_PROVE_SAMPLER_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "graft/ir/builder.h"
#include "graft/ir/parser.h"
#include "graft/ir/printer.h"
#include "graft/match/matchers.h"
#include "graft/ops/catalogue.h"
#include "graft/rewrite/rule.h"
#include "graft/rules/ast.h"

namespace graft {
namespace prove {

// A rule's left-hand side built once, and the same graph after the rule.
struct Instance {
  std::unique_ptr<Graph> before, after;
  DType dtype = DType::kFloat32;  // the try's float dtype
};

// Why a try did not become an instance. kNoBuild: an op of the pattern
// cannot be built at all (no schema or shape function), so no try can.
struct Rejection {
  enum Kind { kIllTyped, kNoBuild, kTooLarge, kNoMatch, kConstraint, kRefused } kind;
  std::string reason;
};

// The integers and int lists a rule's constraints compare with. Literal
// variables draw them too, now and then, so that `where k == 7` is met.
struct Hints {
  std::vector<int64_t> ints;
  std::vector<std::vector<int64_t>> lists;
};

inline void CollectHints(const rules::Expr* e, Hints* out) {
  if (!e) return;
  if (e->kind == rules::Expr::kInt) out->ints.push_back(e->value);
  if (e->kind == rules::Expr::kLiteral && e->literal->is_ints())
    out->lists.emplace_back(e->literal->as_ints().begin(), e->literal->as_ints().end());
  CollectHints(e->lhs.get(), out);
  CollectHints(e->rhs.get(), out);
}

inline Hints HintsOf(const rules::RuleDef& def) {
  Hints out;
  for (const rules::Constraint& c : def.constraints) {
    CollectHints(c.lhs.get(), &out);
    CollectHints(c.rhs.get(), &out);
  }
  return out;
}

inline absl::string_view RejectionName(Rejection::Kind k) {
  switch (k) {
    case Rejection::kIllTyped: return "ill-typed";
    case Rejection::kNoBuild: return "cannot build";
    case Rejection::kTooLarge: return "too large";
    case Rejection::kNoMatch: return "no match";
    case Rejection::kConstraint: return "constraint fails";
    case Rejection::kRefused: return "rewrite refused";
  }
  return "?";
}

namespace sampler_internal {

using rules::PatNode;
using rules::PatPtr;
using Rng = std::mt19937_64;

inline int64_t Pick(Rng& rng, int64_t n) { return static_cast<int64_t>(rng() % uint64_t(n)); }
template <typename T>
T PickOf(Rng& rng, const std::vector<T>& v) {
  return v[static_cast<size_t>(Pick(rng, static_cast<int64_t>(v.size())))];
}
template <typename T>
T PickOf(Rng& rng, std::initializer_list<T> v) {
  return v.begin()[Pick(rng, static_cast<int64_t>(v.size()))];
}

// The input kinds a variable's prefixes allow (all of them: `const`).
inline std::vector<InputKind> KindsFor(absl::string_view prefix) {
  if (prefix == "param") return {InputKind::kParameter};
  if (prefix == "buffer") return {InputKind::kBuffer};
  if (prefix == "const") return {InputKind::kParameter, InputKind::kBuffer, InputKind::kConstant};
  return {InputKind::kUserInput};
}

// Every variable's kind prefix, wherever in the pattern it is written.
inline void CollectPrefixes(const PatNode& n, std::map<std::string, std::string>* out) {
  if (n.kind == PatNode::kVar && !n.kind_prefix.empty()) (*out)[n.name] = n.kind_prefix;
  for (const PatPtr& c : n.children) CollectPrefixes(*c, out);
}

inline int64_t Product(const std::vector<int64_t>& v, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) p *= v[i];
  return p;
}

class Try {
 public:
  // `turn` picks branches and spellings in turn (the instance's index);
  // `random_choices` picks them at random instead (a retry).
  Try(const PatPtr& pattern, const Hints& hints, Rng& rng, DType dtype, int64_t turn,
      bool random_choices)
      : pattern_(pattern),
        hints_(hints),
        rng_(rng),
        dtype_(dtype),
        turn_(turn),
        random_(random_choices) {
    for (int64_t i = 0, n = 2 + Pick(rng_, 2); i < n; ++i) pool_.push_back(PickOf(rng_, kSizes()));
    quant_ = PickOf<QuantRange>(rng_, {{-128, 127, DType::kInt8}, {0, 255, DType::kUInt8}});
    CollectPrefixes(*pattern, &prefixes_);
  }

  // Builds the pattern into `g`, its root's results the outputs.
  absl::Status Build(Graph& g) {
    Builder b(g, Ops());
    b_ = &b;
    g_ = &g;
    GRAFT_ASSIGN_OR_RETURN(Arg root, Tensor(*pattern_, -1));
    Node* n = root.value() ? root.value()->def() : nullptr;
    if (!n || n->num_results() == 0)
      return absl::InvalidArgumentError("the pattern's root is not an op with a result");
    for (int i = 0; i < n->num_results(); ++i) g.AddOutput(n->result(i));
    return absl::OkStatus();
  }

  bool no_build() const { return no_build_; }

 private:
  static const std::vector<int64_t>& kSizes() {
    static const auto* sizes = new std::vector<int64_t>{1, 2, 3, 4, 5, 6, 8};
    return *sizes;
  }

  // Which of `n` choices this choice point takes.
  int64_t Choose(int64_t n) { return random_ ? Pick(rng_, n) : (turn_ + choice_++) % n; }
  const PatNode& Branch(const PatNode& alt) {
    return *alt.children[static_cast<size_t>(Choose(static_cast<int64_t>(alt.children.size())))];
  }
  static const std::vector<int64_t>& kRanks() {
    static const auto* ranks = new std::vector<int64_t>{0, 1, 1, 2, 2, 2, 3, 3, 4};
    return *ranks;
  }

  TensorType LeafType(int rank) {
    if (rank < 0) rank = static_cast<int>(PickOf(rng_, kRanks()));
    std::vector<Dim> dims;
    for (int i = 0; i < rank; ++i) dims.push_back(Dim(PickOf(rng_, pool_)));
    DType d = dtype_;
    // Now and then an integer tensor: quantized values, indices, masks.
    if (Pick(rng_, 8) == 0)
      d = PickOf(rng_, {DType::kInt8, DType::kUInt8, DType::kInt64, DType::kBool});
    return TensorType::Get(d, dims);
  }

  Value* Leaf(absl::string_view name, int rank) {
    auto it = prefixes_.find(std::string(name));
    InputKind kind = PickOf(rng_, KindsFor(it == prefixes_.end() ? "" : it->second));
    std::string n = name.empty() ? absl::StrCat("_", ++wildcards_) : std::string(name);
    return g_->AddInput(LeafType(rank), n, kind, kind == InputKind::kUserInput ? "" : n);
  }

  // A tensor-valued pattern node; `rank` is wanted for a fresh leaf, or -1.
  absl::StatusOr<Arg> Tensor(const PatNode& n, int rank) {
    switch (n.kind) {
      case PatNode::kVar: {
        auto it = tensors_.find(n.name);
        if (it != tensors_.end()) return Arg(it->second);
        Value* v = Leaf(n.name, rank);
        tensors_[n.name] = v;
        return Arg(v);
      }
      case PatNode::kWildcard:
        return Arg(Leaf("", rank));
      case PatNode::kAlt:
        return Tensor(Branch(n), rank);
      case PatNode::kCall:
        return n.name == "transpose" ? Transpose(n) : Call(n);
      case PatNode::kLiteral:  // None for an absent optional tensor
        return Arg(n.literal);
      case PatNode::kList:
        break;
    }
    return absl::InvalidArgumentError(
        absl::StrCat(n.pos.ToString(), ": a list stands where a tensor goes"));
  }

  // The builtin transpose, in one of its spellings.
  absl::StatusOr<Arg> Transpose(const PatNode& n) {
    using Forms = match::TransposeP<match::AnyP>;
    using S = Forms::Spelling;
    GRAFT_ASSIGN_OR_RETURN(Arg in, Tensor(*n.children[0], 2));
    const auto& forms = Forms::Forms();
    const auto& form = forms[static_cast<size_t>(Choose(static_cast<int64_t>(forms.size())))];
    std::vector<Arg> args = {in};
    std::vector<std::vector<int64_t>> pairs = {{0, 1}, {1, 0}, {-2, -1}, {-1, 0}};
    switch (form.spelling) {
      case S::kAlways:
      case S::kRealOnly:
        break;
      case S::kPermuteDims:
        args.push_back(Literal::Ints(PickOf<std::vector<int64_t>>(rng_, {{1, 0}, {-1, -2}})));
        break;
      case S::kDimsPair:
      case S::kMoveDim: {
        const std::vector<int64_t>& p = PickOf(rng_, pairs);
        args.push_back(Literal::Int(p[0]));
        args.push_back(Literal::Int(p[1]));
        break;
      }
    }
    if (form.op->schema() && form.op->schema()->shape_fn) return Create(form.op, args);
    // A spelling graft matches but has no shape function for (mT, swapaxes,
    // ...): its type is the transpose's, whatever the spelling.
    TensorType t = in.value()->type();
    if (!t.known() || t.rank() != 2)
      return absl::InvalidArgumentError(absl::StrCat("transpose of ", t.ToString()));
    TensorType type = TensorType::Get(*t.dtype(), {t.dim(1), t.dim(0)});
    return Arg(b_->CreateWithTypes(form.op, args, {type})->result(0));
  }

  absl::StatusOr<Arg> Create(const OpDef* op, const std::vector<Arg>& args) {
    GRAFT_ASSIGN_OR_RETURN(Node * node, b_->Create(op, args));
    return Arg(node->result(0));
  }

  absl::StatusOr<Arg> Call(const PatNode& n) {
    GRAFT_ASSIGN_OR_RETURN(const OpDef* op, Ops().Resolve(n.name));
    const OpSchema* schema = op->schema();
    if (!schema || !schema->shape_fn) {
      no_build_ = true;
      return absl::FailedPreconditionError(
          schema ? absl::StrCat("graft has no shape function for ", op->name())
                 : absl::StrCat(op->name(), " is not in graft's catalogue"));
    }
    // Tensors first: literal arguments are drawn to fit their shapes.
    std::vector<std::vector<Arg>> args(n.children.size());
    std::vector<Value*> operands;
    for (size_t i = 0; i < n.children.size(); ++i) {
      const PatNode& c = *n.children[i];
      const Param& p = schema->params[i];
      if (static_cast<int>(i) == schema->list_param) {
        GRAFT_ASSIGN_OR_RETURN(args[i], List(c));
      } else if (p.kind == ParamKind::kOptionalTensor && c.kind == PatNode::kWildcard &&
                 Pick(rng_, 4) == 0) {
        args[i] = {Arg(Literal::None())};  // `_` for an optional tensor: also its absence
      } else if (IsTensorParam(p.kind) && c.kind != PatNode::kLiteral) {
        GRAFT_ASSIGN_OR_RETURN(Arg a, Tensor(c, -1));
        args[i] = {a};
      }
      for (const Arg& a : args[i])
        if (a.value()) operands.push_back(a.value());
    }
    for (size_t i = 0; i < n.children.size(); ++i) {
      if (!args[i].empty() || static_cast<int>(i) == schema->list_param) continue;
      const PatNode& c = *n.children[i];
      if (c.kind == PatNode::kLiteral) {
        args[i] = {Arg(c.literal)};
      } else if (c.kind == PatNode::kVar) {
        auto it = literals_.find(c.name);
        if (it == literals_.end())
          it = literals_.emplace(c.name, LiteralFor(*op, schema->params[i], operands)).first;
        args[i] = {Arg(it->second)};
      } else if (c.kind == PatNode::kAlt) {
        const PatNode& b = Branch(c);
        if (b.kind != PatNode::kLiteral)
          return absl::UnimplementedError(
              absl::StrCat(b.pos.ToString(), ": --prove draws a literal for a variable or `_`, ",
                           "not inside an alternative"));
        args[i] = {Arg(b.literal)};
      } else {
        args[i] = {Arg(LiteralFor(*op, schema->params[i], operands))};
      }
    }
    std::vector<Arg> flat;
    for (const auto& a : args) flat.insert(flat.end(), a.begin(), a.end());
    return Create(op, flat);
  }

  // A tensor-list argument: its elements, or one to three fresh tensors for `_`.
  absl::StatusOr<std::vector<Arg>> List(const PatNode& c) {
    std::vector<Arg> out;
    if (c.kind == PatNode::kWildcard) {
      int64_t k = 1 + Pick(rng_, 3);
      for (int64_t i = 0; i < k; ++i) out.push_back(Arg(Leaf("", -1)));
      return out;
    }
    for (const PatPtr& e : c.children) {
      GRAFT_ASSIGN_OR_RETURN(Arg a, Tensor(*e, -1));
      out.push_back(a);
    }
    return out;
  }

  // Sizes fitting `shape`: itself, its leading dims merged or split back as
  // another tensor's, with a dim added in front or a 1 expanded, or -1.
  std::vector<std::vector<int64_t>> SizeCandidates(const std::vector<int64_t>& s) {
    std::vector<std::vector<int64_t>> out = {s, {Product(s, 0, s.size())}, {-1}};
    size_t r = s.size();
    // Flattened to 2-D, as an exported GEMM's input is: twice as likely.
    if (r >= 2) out.insert(out.end(), 2, {Product(s, 0, r - 1), s[r - 1]});
    for (const auto& [name, v] : tensors_) {
      if (!v->type().is_static() || v->type().rank() < 1 || r < 1) continue;
      std::vector<int64_t> t;
      for (Dim d : *v->type().shape()) t.push_back(d.size());
      t.back() = s.back();
      out.push_back(t);
    }
    std::vector<int64_t> front = s;
    front.insert(front.begin(), PickOf(rng_, pool_));
    out.push_back(front);
    for (size_t i = 0; i < r; ++i) {
      if (s[i] != 1) continue;
      std::vector<int64_t> e = s;
      e[i] = PickOf(rng_, pool_);
      out.push_back(e);
    }
    return out;
  }

  // A value for parameter `p` of `op`, whose tensor operands are `operands`.
  const Literal* LiteralFor(const OpDef& op, const Param& p, const std::vector<Value*>& operands) {
    if (p.optional && Pick(rng_, 4) == 0) return Literal::None();
    std::vector<int64_t> shape;
    if (!operands.empty() && operands[0]->type().is_static())
      for (Dim d : *operands[0]->type().shape()) shape.push_back(d.size());
    const int64_t rank = static_cast<int64_t>(shape.size());
    absl::string_view name = p.name;
    // A dim of the first operand, or one past it (unsqueeze), either sign.
    auto any_dim = [&] { return Pick(rng_, 2 * rank + 2) - rank - 1; };
    // One draw in four, a value the constraints name.
    if (p.kind == ParamKind::kInt && !hints_.ints.empty() && Pick(rng_, 4) == 0)
      return Literal::Int(PickOf(rng_, hints_.ints));
    if (p.kind == ParamKind::kInts && !hints_.lists.empty() && Pick(rng_, 4) == 0)
      return Literal::Ints(PickOf(rng_, hints_.lists));
    switch (p.kind) {
      case ParamKind::kInts: {
        if (absl::StrContains(name, "dim")) {  // permute's dims, a reduction's dims
          std::vector<int64_t> perm(static_cast<size_t>(rank));
          std::iota(perm.begin(), perm.end(), 0);
          if (Pick(rng_, 3) != 0) std::shuffle(perm.begin(), perm.end(), rng_);
          if (name != "dims" && rank > 0) perm.resize(static_cast<size_t>(1 + Pick(rng_, rank)));
          return Literal::Ints(perm);
        }
        return Literal::Ints(PickOf(rng_, SizeCandidates(shape)));
      }
      case ParamKind::kInt: {
        if (absl::StrContains(name, "dim") || name == "source" || name == "destination" ||
            name == "axis")
          return Literal::Int(any_dim());
        if (name == "quant_min") return Literal::Int(quant_.min);
        if (name == "quant_max") return Literal::Int(quant_.max);
        if (name == "zero_point") return Literal::Int(PickOf<int64_t>(rng_, {0, 3, -5}));
        if (name == "start" || name == "end") {
          std::vector<int64_t> v = {0, 1, std::numeric_limits<int64_t>::max()};
          v.insert(v.end(), shape.begin(), shape.end());
          return Literal::Int(PickOf(rng_, v));
        }
        return Literal::Int(PickOf<int64_t>(rng_, {0, 1, 2, -1, 3}));
      }
      case ParamKind::kFloat:
        if (name == "scale") return Literal::Float(PickOf(rng_, {0.05, 0.1, 0.25}));
        return Literal::Float(PickOf<double>(rng_, {0.0, 1.0, 0.5, -2.0, 3.0}));
      case ParamKind::kScalar:
        return PickOf(rng_, {Literal::Int(0), Literal::Int(1), Literal::Int(2), Literal::Float(0.0),
                             Literal::Float(1.0), Literal::Float(-1.5), Literal::Float(0.5)});
      case ParamKind::kBool:
        return Literal::Bool(Pick(rng_, 2) == 1);
      case ParamKind::kDType: {
        if (op.ns() == "quantized_decomposed" && name == "dtype")
          return Literal::OfDType(quant_.dtype);
        std::vector<DType> d = {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kInt8,
                                DType::kUInt8};
        if (!operands.empty() && operands[0]->type().has_dtype())
          d.insert(d.end(), 3, *operands[0]->type().dtype());
        return Literal::OfDType(PickOf(rng_, d));
      }
      default:  // lists of floats or bools, strings, carried values: the default, else None
        if (p.default_value) return p.default_value;
        return Literal::None();
    }
  }

  const PatPtr& pattern_;
  const Hints& hints_;
  Rng& rng_;
  DType dtype_;
  int64_t turn_;
  bool random_;
  int64_t choice_ = 0;
  int wildcards_ = 0;
  bool no_build_ = false;
  std::vector<int64_t> pool_;
  // The quantized range of this try: quant_min, quant_max and the quantized
  // dtype drawn for quantized_decomposed ops agree with one another.
  struct QuantRange {
    int64_t min, max;
    DType dtype;
  } quant_;
  std::map<std::string, std::string> prefixes_;
  std::map<std::string, Value*> tensors_;
  std::map<std::string, const Literal*> literals_;
  Builder* b_ = nullptr;
  Graph* g_ = nullptr;
};

}  // namespace sampler_internal

// Draws instances of `rule`, whose alias-expanded left-hand side is
// `pattern` (rules::ExpandedLhs) and whose constraints give `hints`
// (HintsOf); deterministic given `seed`.
class Sampler {
 public:
  // The most elements any value of an instance may have.
  static constexpr int64_t kMaxElements = int64_t{1} << 16;

  Sampler(const Rule& rule, rules::PatPtr pattern, Hints hints, uint64_t seed)
      : rule_(rule), pattern_(std::move(pattern)), hints_(std::move(hints)), rng_(seed) {
    // A rule that holds for any types claims it for integers too: they
    // take turns with the floats, so that a replacement that would change
    // a promoted dtype is run, not only refused now and then.
    if (rule_.for_any_types()) {
      dtypes_.push_back(DType::kInt64);
      dtypes_.push_back(DType::kInt8);
    }
  }

  // The dtypes instances take in turn; a caller drops one whose kernels
  // libtorch lacks on CPU.
  std::vector<DType>& dtypes() { return dtypes_; }

  // One try: the `index`-th instance, or why this try is not one. `retry`
  // (a try after a failed one for the same index) picks branches and
  // spellings at random.
  absl::StatusOr<Instance> Next(int64_t index, bool retry, Rejection* why) {
    Instance inst;
    inst.dtype = dtypes_[static_cast<size_t>(index) % dtypes_.size()];
    inst.before = std::make_unique<Graph>();
    sampler_internal::Try t(pattern_, hints_, rng_, inst.dtype, index, retry);
    if (absl::Status s = t.Build(*inst.before); !s.ok()) {
      *why = {t.no_build() ? Rejection::kNoBuild : Rejection::kIllTyped, std::string(s.message())};
      return s;
    }
    // Nested expands and views multiply sizes: keep what libtorch runs small.
    for (const Node* n : inst.before->nodes()) {
      for (int i = 0; i < n->num_results(); ++i) {
        std::optional<int64_t> numel = n->result(i)->type().numel();
        if (!numel || *numel <= kMaxElements) continue;
        *why = {Rejection::kTooLarge,
                absl::StrCat(n->op()->name(), " gives more than ", kMaxElements, " elements")};
        return absl::FailedPreconditionError(why->reason);
      }
    }
    // The rewrite happens on a copy read back from the text form: the
    // instance printed in a report is exactly what was rewritten.
    GRAFT_ASSIGN_OR_RETURN(inst.after, ParseGraph(Print(*inst.before), Ops(), "<instance>"));
    Graph& g = *inst.after;
    Node* root = g.output(0)->def();
    MatchState state(g);
    if (!rule_.Match(root, state)) {
      *why = {Rejection::kNoMatch, "the pattern does not match the built graph"};
      return absl::FailedPreconditionError(why->reason);
    }
    if (const Rule::Constraint* c = rule_.FailedConstraint(state)) {
      *why = {Rejection::kConstraint, absl::StrCat("constraint '", c->label, "' fails")};
      return absl::FailedPreconditionError(why->reason);
    }
    // A rule that holds for any types (`for any types`) is trusted where a
    // type is unknown, so its claim, not the type check, must be what is
    // proven: the root's result types are forgotten before the rewrite, so
    // Apply admits any replacement, and the run compares the outputs'
    // shapes and dtypes. An instance whose replacement would change the
    // type is then a counterexample, not a refused try.
    if (rule_.for_any_types()) {
      for (int i = 0; i < root->num_results(); ++i) root->result(i)->set_type(TensorType());
    }
    Rewriter rw(g, Ops());
    if (absl::Status s = rule_.Apply(rw, root, state, /*constraints_checked=*/true); !s.ok()) {
      *why = {Rejection::kRefused, std::string(s.message())};
      return s;
    }
    return inst;
  }

 private:
  const Rule& rule_;
  rules::PatPtr pattern_;
  Hints hints_;
  sampler_internal::Rng rng_;
  std::vector<DType> dtypes_ = {DType::kFloat32, DType::kFloat16, DType::kBFloat16};
};

}  // namespace prove
}  // namespace graft

#endif  // GRAFT_PROVE_SAMPLER_H_
