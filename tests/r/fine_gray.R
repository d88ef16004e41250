# Reference values for analysis/stats/fine_gray.py and analysis/stats/cause_specific.py, frozen as JSON.
#
# Run from the repository root:  Rscript tests/r/fine_gray.R
# Needs cmprsk, survival, riskRegression, prodlim and jsonlite (Debian: r-cran-cmprsk, r-cran-riskregression,
# r-cran-jsonlite). Writes tests/fixtures/fine_gray/<name>.csv (the data as the Python side reads it) and
# <name>.json (the model spec in the dashboard's words plus R's output). Made with R 4.2, cmprsk 2.2-11,
# survival 3.5-3, riskRegression 2022.11.28.
#
# Per case and cause of interest:
#   crr(ftime, fstatus, cov1 = design matrix, failcode = cause)          (Fine & Gray 1999; gtol, maxiter default)
#   summary(fit): coef, exp(coef), se (the robust sandwich crr reports), z, p, 95 % CI; fit$var, fit$inf,
#   fit$loglik, fit$loglik.null, fit$uftime, fit$bfitj;
#   predict(fit, cov1 = profile row): 1 - exp(-cumsum(exp(z'b) bfitj)) at every cause time;
#   CSC(Hist(time, status) ~ design columns) (cause-specific coxph, Efron) and
#   predictRisk(csc, newdata = profile, times, cause) (product-limit, riskRegression's default).

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(riskRegression)
  library(prodlim)
})
source(file.path("tests", "r", "helpers.R"))

out_dir <- file.path("tests", "fixtures", "fine_gray")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

crr_part <- function(time, status, x, cause, prof) {
  fit <- crr(time, status, cov1 = x, failcode = cause)
  s <- summary(fit)
  cf <- s$coef
  pr <- predict(fit, cov1 = prof)
  list(coef = I(unname(cf[, "coef"])), shr = I(unname(cf[, "exp(coef)"])), se = I(unname(cf[, "se(coef)"])),
       z = I(unname(cf[, "z"])), p = I(2 * pnorm(-abs(unname(cf[, "z"])))),  # summary.crr rounds its p-value column
       lower = I(unname(s$conf.int[, "2.5%"])), upper = I(unname(s$conf.int[, "97.5%"])),
       var = I(unname(fit$var)), inf = I(unname(fit$inf)),
       loglik = fit$loglik, loglik_null = fit$loglik.null, converged = fit$converged,
       uftime = I(fit$uftime), bfitj = I(fit$bfitj), predicted = I(unname(pr[, 2])))
}

csc_part <- function(time, status, x, cause, prof, times) {
  d <- data.frame(time = time, status = status, x)
  names(d) <- c("time", "status", paste0("v", seq_len(ncol(x))))
  d$unused <- 0  # CSC (riskRegression 2022.11.28) fails on a data frame of exactly three columns
  fml <- as.formula(paste("Hist(time, status) ~", paste(paste0("v", seq_len(ncol(x))), collapse = " + ")))
  csc <- CSC(fml, data = d)
  nd <- as.data.frame(t(prof))
  names(nd) <- paste0("v", seq_len(ncol(x)))
  list(times = I(times),
       risk = I(as.vector(predictRisk(csc, newdata = nd, times = times, cause = cause))),
       coef_cause = I(unname(coef(csc$models[[paste("Cause", cause)]]))),
       coef_other = I(unname(coef(csc$models[[setdiff(names(csc$models), paste("Cause", cause))]]))))
}

reference <- function(name, d, time, status, covariates, categorical = character(0), reference = list(),
                      cuts = list(), profile, times, causes = c(1, 2), note = "") {
  keep <- complete.cases(d[, c(time, status, covariates)])
  d <- d[keep, c(time, status, covariates)]
  rownames(d) <- NULL
  write.csv(d, file.path(out_dir, paste0(name, ".csv")), row.names = FALSE, na = "")
  x <- design_matrix(d, covariates, categorical, reference, cuts)
  prof <- profile_row(d, profile, covariates, categorical, reference, cuts)
  fits <- list()
  for (k in causes) {
    fits[[as.character(k)]] <- list(
      crr = crr_part(d[[time]], d[[status]], x, k, prof),
      csc = csc_part(d[[time]], d[[status]], x, k, prof, times))
  }
  write_fixture(list(name = name, note = note,
                     call = "crr(time, status, cov1 = design, failcode = cause); predict(fit, profile); CSC + predictRisk",
                     spec = spec_list(time, status, covariates, categorical, reference, cuts),
                     terms = I(colnames(x)), profile = profile, profile_row = I(unname(prof)),
                     n = nrow(d), causes = fits),
                file.path(out_dir, paste0(name, ".json")))
}

# cmprsk's own example (?crr): 200 patients, three uniform covariates, causes 0/1/2 at random.
set.seed(10)
ftime <- rexp(200)
fstatus <- sample(0:2, 200, replace = TRUE)
cov <- matrix(runif(600), nrow = 200)
ex <- data.frame(ftime = ftime, fstatus = fstatus, x1 = cov[, 1], x2 = cov[, 2], x3 = cov[, 3])
reference("crr_example", ex, "ftime", "fstatus", c("x1", "x2", "x3"),
          profile = list(x1 = 0.1, x2 = 0.5, x3 = 0.8), times = c(0.25, 0.5, 1, 2),
          note = "cmprsk's ?crr example data")

# Heavy ties: integer times, censorings at the failure times, a 3-level factor with a non-default
# reference and a numeric covariate.
set.seed(20240612)
n <- 90
ties <- data.frame(time = pmax(1, round(rexp(n, 0.12))), group = sample(c("a", "b", "c"), n, TRUE),
                   score = round(rnorm(n), 1))
ties$status <- sample(0:2, n, TRUE, prob = c(0.3, 0.4, 0.3))
reference("crr_ties", ties, "time", "status", c("group", "score"), reference = list(group = "b"),
          profile = list(group = "c", score = 0.5), times = c(2, 5, 10, 20),
          note = "integer times: ties among failures of both causes and censorings")

# Scrucca et al. (2007) bmt: one time (months) and a cause (their codes 1 = TRM, 2 = relapse),
# recoded to the project's: 1 relapse, 2 death without relapse.
bmt <- read.csv(file.path("tests", "fixtures", "transplant", "bmt.csv"))
bmt$cause <- ifelse(bmt$status == 2, 1, ifelse(bmt$status == 1, 2, 0))
bmt$dis <- ifelse(bmt$dis == 1, "AML", "ALL")
reference("crr_bmt", bmt[, c("ftime", "cause", "dis")], "ftime", "cause", c("dis"),
          profile = list(dis = "AML"), times = c(6, 12, 24, 48), note = "Scrucca et al. 2007")

# Pintilie's cgvhd: relapse and death without relapse on the relapse-free-survival time (months).
cg <- read.delim(file.path("tests", "fixtures", "transplant", "cgvhd.tsv"))
cg$rfs_time <- ifelse(cg$rcens == 1, cg$reltime, cg$survtime) * 12
cg$cause <- ifelse(cg$rcens == 1, 1, ifelse(cg$stat == 1, 2, 0))
reference("crr_cgvhd", cg[, c("rfs_time", "cause", "dx", "tx", "extent", "age")], "rfs_time", "cause",
          c("dx", "tx", "extent", "age"), reference = list(extent = "L"),
          profile = list(dx = "AML", tx = "PB", extent = "L", age = 50), times = c(6, 12, 24, 36),
          note = "Pintilie 2006, scikit-survival's cgvhd")

# The synthetic demo cohort: relapse and NRM by age (cut at 10), lineage, donor (reference MSD) and
# the HSCT1 -> relapse interval per month: five terms' worth of the paper's covariates.
demo <- read.csv(file.path("data", "demo_cohort.csv"))
demo$rfs_time <- ifelse(demo$relapse == 1, demo$relapse_months, demo$followup_months)
demo$cause <- ifelse(demo$relapse == 1, 1, ifelse(demo$death == 1, 2, 0))
reference("crr_demo", demo[, c("rfs_time", "cause", "age_years", "lineage", "donor", "months_hsct1_to_relapse")],
          "rfs_time", "cause", c("age_years", "lineage", "donor", "months_hsct1_to_relapse"),
          reference = list(donor = "MSD"), cuts = list(age_years = 10),
          profile = list(age_years = 12, lineage = "T-ALL", donor = "MUD", months_hsct1_to_relapse = 5),
          times = c(6, 12, 24, 60), note = "the synthetic demo cohort")
