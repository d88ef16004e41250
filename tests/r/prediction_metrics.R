# Reference values for analysis/stats/prediction_metrics.py, frozen as JSON fixtures in
# tests/fixtures/prediction_metrics/.
#
# Run from the repository root:  Rscript tests/r/prediction_metrics.R
# Needs jsonlite and riskRegression (Debian: r-cran-jsonlite, r-cran-riskregression 2022.11).
# Made with R 4.2, survival 3.5-3, riskRegression 2022.11.28.
#
# Each case writes <name>.csv: time, status and the predicted event probabilities F(t | x) at the
# grid times (columns risk_1 ... risk_m, from a coxph fit: 1 - survfit(fit, newdata = d)$surv), and
# <name>.json with R's scores of exactly those predictions:
#   Score(list(model = risk matrix), Hist(time, status) ~ 1, data, times = grid,
#         metrics = c("auc", "brier"), summary = "ibs", cens.model = "km", se.fit = FALSE,
#         null.model = FALSE)          # censoring: reverse Kaplan-Meier (prodlim) on the same data
#   and Uno's concordance survival::concordance(Surv(time, status) ~ lp, timewt = "n/G2",
#   reverse = TRUE, ymax = tau), which weights the pairs by 1 / G(T_i-)^2 (the pages follow
#   scikit-survival's concordance_index_ipcw, 1 / G(T_i)^2; the tests check both).

suppressPackageStartupMessages({
  library(survival)
  library(riskRegression)
})

out_dir <- file.path("tests", "fixtures", "prediction_metrics")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
write_fixture <- function(x, path) {
  jsonlite::write_json(x, path, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE)
}

score_reference <- function(name, d, formula, grid, tau, note = "") {
  d <- d[complete.cases(d[, all.vars(formula)]), ]
  rownames(d) <- NULL
  fit <- coxph(formula, data = d, ties = "efron", x = TRUE)
  sf <- survfit(fit, newdata = d)
  risk <- 1 - t(summary(sf, times = grid, extend = TRUE)$surv)
  colnames(risk) <- paste0("risk_", seq_along(grid))
  out <- data.frame(time = d$time, status = d$status, lp = unname(predict(fit, type = "lp")), risk)
  write.csv(out, file.path(out_dir, paste0(name, ".csv")), row.names = FALSE)
  sc <- Score(list(model = risk), formula = Hist(time, status) ~ 1, data = out, times = grid,
              metrics = c("auc", "brier"), summary = "ibs", cens.model = "km", se.fit = FALSE,
              null.model = FALSE)
  brier <- as.data.frame(sc$Brier$score)
  auc <- as.data.frame(sc$AUC$score)
  uno <- concordance(Surv(time, status) ~ lp, data = out, timewt = "n/G2", reverse = TRUE, ymax = tau)
  write_fixture(list(
    name = name, note = note, model = deparse(formula), times = I(grid), tau = tau,
    call = "Score(list(model = risk), Hist(time, status) ~ 1, data, times, metrics = c('auc', 'brier'), summary = 'ibs', cens.model = 'km')",
    brier = I(brier$Brier), ibs = I(brier$IBS), auc = I(auc$AUC),
    uno_survival = unname(uno$concordance)
  ), file.path(out_dir, paste0(name, ".json")))
}

lung2 <- survival::lung
lung2$status <- as.integer(lung2$status == 2)
score_reference("lung", lung2, Surv(time, status) ~ age + sex + ph.ecog, grid = seq(60, 720, by = 60), tau = 720)

# Whole months: deaths and censorings share times, so G(T-) and the tie order of the reverse
# Kaplan-Meier matter.
lung_m <- lung2
lung_m$time <- ceiling(lung_m$time / 30.4375)
score_reference("lung_months_ties", lung_m, Surv(time, status) ~ age + sex, grid = 1:24, tau = 24,
                note = "times in whole months: tied deaths and censorings")

vet <- survival::veteran
score_reference("veteran", vet, Surv(time, status) ~ karno + celltype, grid = c(30, 60, 90, 180, 365), tau = 365)

demo <- read.csv(file.path("data", "demo_cohort.csv"), stringsAsFactors = FALSE)
demo$time <- demo$followup_months
demo$status <- demo$death
score_reference("demo_os", demo, Surv(time, status) ~ age_years + lineage + sex + atg, grid = c(3, 6, 12, 18, 24, 36),
                tau = 36, note = "synthetic demo cohort, overall survival")
cat("wrote", out_dir, "\n")
