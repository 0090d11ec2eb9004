// `bmru model import|export`: model files to and from numpy's .npz (core/npz_model.hpp).
#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "core/model_file.hpp"
#include "core/npz_model.hpp"

namespace bmru::experiments {

void add_model_command(CLI::App& app) {
  CLI::App* model =
      app.add_subcommand("model", "Convert model files to and from numpy's .npz (PyTorch, JAX)");
  model->require_subcommand(1);
  struct Paths {
    std::filesystem::path in, out;
  };
  auto imp = std::make_shared<Paths>();
  CLI::App* i = model->add_subcommand(
      "import", "Read a .npz (one array per parameter, named as the model file's datasets)");
  i->add_option("npz", imp->in, ".npz file")->required()->check(CLI::ExistingFile);
  i->add_option("-o,--out", imp->out, "Model file to write (.h5 or .json)")->required();
  i->callback([imp] {
    const core::Network net = core::read_npz_model(imp->in);
    core::write_model(net, imp->out);
    std::printf("wrote %s: n_in %ld, d %ld, %ld layers, n_out %ld, unit current %g A\n",
                imp->out.string().c_str(), long(net.n_in()), long(net.d()), long(net.n_layers()),
                long(net.n_out()), net.unit_current_a);
  });
  auto exp = std::make_shared<Paths>();
  CLI::App* e = model->add_subcommand("export", "Write a model file as a .npz");
  e->add_option("model", exp->in, "Model file (.h5 or .json)")
      ->required()
      ->check(CLI::ExistingFile);
  e->add_option("-o,--out", exp->out, ".npz file to write")->required();
  e->callback([exp] {
    core::write_npz_model(core::read_model(exp->in), exp->out);
    std::printf("wrote %s\n", exp->out.string().c_str());
  });
}

}  // namespace bmru::experiments
