# Reference values for analysis/cox.py and analysis/cox_diagnostics.py, frozen as JSON fixtures.
#
# Run from the repository root:  Rscript tests/r/cox.R
# Needs the R package jsonlite (Debian: apt-get install r-cran-jsonlite) to write the JSON.
# Writes tests/fixtures/cox/<name>.csv (the data as the Python side reads it) and
# <name>.json (the model spec in the dashboard's words plus R's output).
# Made with R 4.x, survival 3.5-3: coxph(..., ties = "efron"), cox.zph(fit) (transform = "km",
# terms = TRUE), fit$concordance.
#
# The spec mirrors analysis.cox_design: covariates in order; categorical covariates are factors
# whose reference level is given explicitly (often not the default first level); numeric covariates
# enter per unit or as an indicator "col>=cut". Coefficient names are rewritten to the dashboard's
# term names ("sex=female", "age", "age≥65") so the tests can compare by name.

suppressPackageStartupMessages(library(survival))

out_dir <- file.path("tests", "fixtures", "cox")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

# jsonlite writes the JSON: numbers to 15 significant digits (digits = NA, jsonlite's maximum),
# length-1 vectors as scalars unless wrapped in I(), NA/NaN and NULL as null.
# JSON has no infinity and na = "null" would turn it into null, so an infinite value (the upper CI
# limit under separation) is written as the string "Infinity" / "-Infinity", which tests/test_cox.py
# reads back as a float; an array holding one becomes a list so that its other elements stay numbers.
inf_as_string <- function(x) {
  if (is.list(x)) {
    x[] <- lapply(x, inf_as_string)
    return(x)
  }
  if (!is.numeric(x) || !any(is.infinite(x))) return(x)
  s <- ifelse(x > 0, "Infinity", "-Infinity")
  if (length(x) == 1 && !inherits(x, "AsIs")) return(s)
  lapply(seq_along(x), function(i) if (is.infinite(x[i])) s[[i]] else unclass(x)[[i]])
}
write_fixture <- function(x, path) {
  jsonlite::write_json(inf_as_string(x), path, digits = NA, auto_unbox = TRUE, na = "null", null = "null",
                       pretty = FALSE)
}

level_label <- function(v) {
  # as.character() of a number prints 0.5 as "0.5" and 1 as "1", as the Python design does.
  as.character(v)
}

# Build the model frame and term names the way analysis.cox_design does.
design_frame <- function(d, covariates, categorical, reference, cuts) {
  mf <- data.frame(row.names = seq_len(nrow(d)))
  names_map <- list()
  for (j in seq_along(covariates)) {
    cv <- covariates[j]
    vn <- paste0("v", j)
    x <- d[[cv]]
    if (cv %in% categorical || !is.numeric(x)) {
      lv <- if (is.numeric(x)) level_label(sort(unique(x))) else sort(unique(x), method = "radix")
      ref <- if (!is.null(reference[[cv]])) reference[[cv]] else lv[1]
      f <- relevel(factor(level_label(x), levels = lv), ref = ref)
      mf[[vn]] <- f
      for (l in levels(f)[-1]) names_map[[paste0(vn, l)]] <- paste0(cv, "=", l)
    } else if (!is.null(cuts[[cv]])) {
      mf[[vn]] <- as.numeric(x >= cuts[[cv]])
      names_map[[vn]] <- paste0(cv, "\u2265", format(cuts[[cv]]))
    } else {
      mf[[vn]] <- x
      names_map[[vn]] <- cv
    }
  }
  list(mf = mf, names_map = names_map)
}

fit_reference <- function(name, d, time, event, covariates, categorical = character(0),
                          reference = list(), cuts = list(), note = "") {
  keep <- complete.cases(d[, c(time, event, covariates)])
  d <- d[keep, c(time, event, covariates)]
  rownames(d) <- NULL
  write.csv(d, file.path(out_dir, paste0(name, ".csv")), row.names = FALSE, na = "")
  built <- design_frame(d, covariates, categorical, reference, cuts)
  mf <- built$mf
  mf$.time <- d[[time]]
  mf$.event <- d[[event]]
  rhs <- paste(paste0("v", seq_along(covariates)), collapse = " + ")
  fml <- as.formula(paste("Surv(.time, .event) ~", rhs))
  warn <- character(0)
  fit <- withCallingHandlers(coxph(fml, data = mf, ties = "efron"),
                             warning = function(w) { warn <<- c(warn, conditionMessage(w)); invokeRestart("muffleWarning") })
  s <- summary(fit)
  cf <- s$coefficients
  ci <- s$conf.int
  terms <- unname(unlist(built$names_map[rownames(cf)]))
  zph <- tryCatch({
    z <- cox.zph(fit)
    tb <- z$table
    rn <- rownames(tb)
    rn[rn != "GLOBAL"] <- covariates[as.integer(sub("v", "", rn[rn != "GLOBAL"]))]
    list(term = I(rn), chisq = I(unname(tb[, "chisq"])), df = I(unname(tb[, "df"])),
         p = I(unname(tb[, "p"])))
  }, error = function(e) NULL)
  res <- list(
    name = name,
    note = note,
    call = paste0("coxph(", deparse(fml), ", ties = \"efron\")  # v1..vk = ",
                  paste(covariates, collapse = ", ")),
    spec = list(duration = time, event = event, covariates = I(covariates),
                categorical = I(as.character(categorical)), reference = if (length(reference)) reference else NULL,
                cuts = if (length(cuts)) cuts else NULL),
    n = fit$n, events = fit$nevent, iter = fit$iter,
    warnings = I(warn),
    terms = I(terms),
    coef = I(unname(cf[, "coef"])), se = I(unname(cf[, "se(coef)"])),
    hr = I(unname(cf[, "exp(coef)"])), lower = I(unname(ci[, "lower .95"])),
    upper = I(unname(ci[, "upper .95"])), z = I(unname(cf[, "z"])), p = I(unname(cf[, "Pr(>|z|)"])),
    loglik = I(fit$loglik),
    lr_test = list(statistic = unname(s$logtest["test"]), df = unname(s$logtest["df"]),
                   p = unname(s$logtest["pvalue"])),
    score_test = list(statistic = unname(s$sctest["test"]), df = unname(s$sctest["df"]),
                      p = unname(s$sctest["pvalue"])),
    concordance = unname(fit$concordance["concordance"]),
    concordance_counts = list(concordant = unname(fit$concordance["concordant"]),
                              discordant = unname(fit$concordance["discordant"]),
                              tied_x = unname(fit$concordance["tied.x"]),
                              tied_y = unname(fit$concordance["tied.y"])),
    zph = zph
  )
  write_fixture(res, file.path(out_dir, paste0(name, ".json")))
  invisible(fit)
}

lung2 <- survival::lung
lung2$status <- as.integer(lung2$status == 2)
lung2$sex <- ifelse(lung2$sex == 1, "male", "female")

# Mixed: a continuous covariate, a character factor with a non-default reference ("male"; the
# default would be "female") and a numeric column used as levels with reference "1".
fit_reference("lung_mixed", lung2, "time", "status", c("age", "sex", "ph.ecog"),
              categorical = c("ph.ecog"), reference = list(sex = "male", ph.ecog = "1"))

# Heavy ties: times in whole months (many deaths share a time), plus a covariate with missing values.
lung_m <- lung2
lung_m$time <- ceiling(lung_m$time / 30.4375)
fit_reference("lung_months_ties", lung_m, "time", "status", c("age", "sex", "wt.loss"),
              categorical = c("sex"))

# Numeric covariate cut at a value (indicator age >= 65) next to a factor.
fit_reference("lung_cut", lung2, "time", "status", c("age", "sex"), categorical = c("sex"),
              cuts = list(age = 65))

# One continuous covariate alone (univariable).
fit_reference("lung_wtloss", lung2, "time", "status", c("wt.loss"))

vet <- survival::veteran
vet$celltype <- as.character(vet$celltype)
# Categorical only: the linear predictor has few distinct values (ties in the risk score).
fit_reference("veteran_categorical", vet, "time", "status", c("celltype", "trt"),
              categorical = c("celltype", "trt"), reference = list(celltype = "large", trt = "2"))
fit_reference("veteran_mixed", vet, "time", "status", c("celltype", "karno", "age", "prior"),
              categorical = c("celltype", "prior"), reference = list(prior = "10"))

pb <- survival::pbc
pb$dead <- as.integer(pb$status == 2)
# A numeric level "0.5" (edema) and a larger sample.
fit_reference("pbc_edema", pb, "time", "dead", c("bili", "edema", "age", "albumin"),
              categorical = c("edema"), reference = list(edema = "0"))

# Monotone likelihood: no event in group "b" -> R warns that a coefficient may be infinite.
set.seed(20240607)
n <- 40
sep <- data.frame(time = round(rexp(n, 0.1), 1) + 0.1, group = rep(c("a", "b"), each = n / 2),
                  x = round(rnorm(n), 2))
sep$status <- as.integer(runif(n) < 0.7)
sep$status[sep$group == "b"] <- 0L
fit_reference("separation", sep, "time", "status", c("group", "x"), categorical = c("group"),
              note = "no event in group b: the coefficient of group=b is -Inf in truth")

# Firth's penalized partial likelihood, l(beta) + 0.5 log det I(beta) with Efron ties, maximised
# here with optim() on coxph()'s own log-likelihood and information at fixed beta (iter.max = 0),
# so the reference uses nothing but survival::coxph. coxphf is not installed.
firth_reference <- function(name, d, time, event, covariates, categorical = character(0),
                            reference = list()) {
  keep <- complete.cases(d[, c(time, event, covariates)])
  d <- d[keep, c(time, event, covariates)]
  rownames(d) <- NULL
  write.csv(d, file.path(out_dir, paste0(name, ".csv")), row.names = FALSE, na = "")
  built <- design_frame(d, covariates, categorical, reference, list())
  mf <- built$mf
  mf$.time <- d[[time]]
  mf$.event <- d[[event]]
  rhs <- paste(paste0("v", seq_along(covariates)), collapse = " + ")
  fml <- as.formula(paste("Surv(.time, .event) ~", rhs))
  at <- function(beta) {
    suppressWarnings(coxph(fml, data = mf, ties = "efron", init = beta,
                           control = coxph.control(iter.max = 0)))
  }
  pll <- function(beta) {
    f <- at(beta)
    f$loglik[2] + 0.5 * as.numeric(determinant(solve(f$var), logarithm = TRUE)$modulus)
  }
  grad <- function(beta) {
    h <- 1e-5
    vapply(seq_along(beta), function(k) {
      e <- replace(numeric(length(beta)), k, h)
      (pll(beta + e) - pll(beta - e)) / (2 * h)
    }, numeric(1))
  }
  p <- length(all.vars(fml)) - 2
  start <- rep(0, ncol(model.matrix(fml, mf)) - 1)
  opt <- optim(start, pll, grad, method = "BFGS",
               control = list(fnscale = -1, reltol = 1e-15, maxit = 2000))
  opt <- optim(opt$par, pll, grad, method = "BFGS",
               control = list(fnscale = -1, reltol = 1e-15, maxit = 2000))
  f <- at(opt$par)
  terms <- unname(unlist(built$names_map[names(coef(f))]))
  res <- list(
    name = name,
    call = "optim(pll, BFGS): pll(beta) = coxph(init = beta, iter.max = 0)$loglik[2] + 0.5 log det solve(var)",
    spec = list(duration = time, event = event, covariates = I(covariates),
                categorical = I(as.character(categorical)), reference = if (length(reference)) reference else NULL),
    terms = I(terms), coef = I(opt$par), penalized_loglik = opt$value,
    gradient = I(grad(opt$par)), loglik = f$loglik[2], se = I(sqrt(diag(f$var))),
    convergence = opt$convergence
  )
  write_fixture(res, file.path(out_dir, paste0(name, ".json")))
}

firth_reference("firth_separation", sep, "time", "status", c("group", "x"), categorical = c("group"))
lung_small <- lung2[1:60, ]
firth_reference("firth_lung_small", lung_small, "time", "status", c("age", "sex"),
                categorical = c("sex"), reference = list(sex = "male"))

# Subgroup effects of trt within celltype (coxph on each subset) and the likelihood-ratio test of
# trt x celltype: anova(coxph(~ trt + celltype), coxph(~ trt * celltype)).
vet$trt_f <- relevel(factor(as.character(vet$trt)), ref = "1")
vet$cell_f <- factor(vet$celltype)
sub_rows <- lapply(levels(vet$cell_f), function(l) {
  f <- coxph(Surv(time, status) ~ trt_f, data = vet[vet$cell_f == l, ], ties = "efron")
  s <- summary(f)
  list(level = l, n = f$n, events = f$nevent, hr = unname(s$conf.int[1, "exp(coef)"]),
       lower = unname(s$conf.int[1, "lower .95"]), upper = unname(s$conf.int[1, "upper .95"]),
       p = unname(s$coefficients[1, "Pr(>|z|)"]))
})
main <- coxph(Surv(time, status) ~ trt_f + cell_f, data = vet, ties = "efron")
inter <- coxph(Surv(time, status) ~ trt_f * cell_f, data = vet, ties = "efron")
a <- anova(main, inter)
write.csv(vet[, c("time", "status", "trt", "celltype")], file.path(out_dir, "veteran_subgroups.csv"),
          row.names = FALSE)
write_fixture(list(
  call = "coxph(Surv(time, status) ~ trt, subset = celltype == l); anova(coxph(~ trt + celltype), coxph(~ trt * celltype))",
  factor = "trt", by = "celltype", subgroups = sub_rows,
  interaction = list(statistic = a$Chisq[2], df = a$Df[2], p = a$`Pr(>|Chi|)`[2])
), file.path(out_dir, "veteran_subgroups.json"))
