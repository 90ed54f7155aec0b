// Keeps README.md's "## Operations" table honest: each row must name an op that the tutorial
// cases (tutorial_ops_cases.h) exercise, with exactly the CPU / CUDA / autograd coverage
// those cases establish, and every op the cases exercise must have a row. Adding a case
// without a row, or a row (or a ✓) without the case behind it, fails here.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/tutorial_ops_cases.h"

namespace {

using ember::testing::tutorial::Coverage;

// README.md at the repository root (EMBER_SOURCE_DIR comes from tests/CMakeLists.txt; __FILE__
// would do only while the compiler sees absolute paths, which ccache's base_dir changes).
std::filesystem::path readme_path() {
  return std::filesystem::path(EMBER_SOURCE_DIR) / "README.md";
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  std::getline(ss, cell, '|');  // text before the leading '|'
  while (std::getline(ss, cell, '|')) out.push_back(trim(cell));
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

// "✓" or "—"; anything else is a malformed row.
bool mark(const std::string& cell, const std::string& where) {
  if (cell == "✓") return true;
  EXPECT_EQ(cell, "—") << where << ": expected ✓ or —";
  return false;
}

// Rows of the "## Operations" table: op name (the first cell's `code`) -> coverage.
std::map<std::string, Coverage> readme_table() {
  std::ifstream in(readme_path());
  EXPECT_TRUE(in.good()) << "cannot read " << readme_path();
  std::map<std::string, Coverage> rows;
  std::string line;
  bool in_section = false;
  int header_rows = 0;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {
      in_section = line == "## Operations";
      continue;
    }
    if (!in_section || line.rfind("|", 0) != 0) continue;
    std::vector<std::string> c = cells(line);
    if (header_rows < 2) {  // the header and the |---| separator
      if (header_rows == 0) {
        EXPECT_GE(c.size(), 4u);
        if (c.size() >= 4) {
          EXPECT_EQ(c[1], "CPU");
          EXPECT_EQ(c[2], "CUDA");
          EXPECT_EQ(c[3], "Autograd");
        }
      }
      ++header_rows;
      continue;
    }
    EXPECT_GE(c.size(), 4u) << line;
    if (c.size() < 4) continue;
    EXPECT_TRUE(c[0].size() > 2 && c[0].front() == '`' && c[0].back() == '`') << line;
    const std::string op = c[0].substr(1, c[0].size() - 2);
    EXPECT_FALSE(rows.contains(op)) << "duplicate row " << op;
    rows[op] = {mark(c[1], op + " CPU"), mark(c[2], op + " CUDA"), mark(c[3], op + " Autograd")};
  }
  return rows;
}

}  // namespace

TEST(TutorialOpsReadme, TableMatchesTheCasesBothWays) {
  const std::map<std::string, Coverage> table = readme_table();
  const std::map<std::string, Coverage> tested = ember::testing::tutorial::coverage();
  ASSERT_FALSE(table.empty()) << "no '## Operations' table in " << readme_path();
  for (const auto& [op, cov] : table) {
    auto it = tested.find(op);
    if (it == tested.end()) {
      ADD_FAILURE() << "README lists `" << op << "` but no tutorial case exercises it";
      continue;
    }
    EXPECT_EQ(cov.cpu, it->second.cpu) << op << ": CPU column";
    EXPECT_EQ(cov.cuda, it->second.cuda) << op << ": CUDA column";
    EXPECT_EQ(cov.grad, it->second.grad) << op << ": Autograd column";
  }
  for (const auto& [op, cov] : tested)
    EXPECT_TRUE(table.contains(op)) << "`" << op << "` is tested but has no README row";
}
