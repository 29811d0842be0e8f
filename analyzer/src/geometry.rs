//! Boxes shared by the detectors: overlap and non-maximum suppression.

/// A box as x0, y0, x1, y1.
pub type Bounds = [f32; 4];

/// Intersection over union of two boxes (0 when either is empty).
pub fn iou(a: &Bounds, b: &Bounds) -> f32 {
    let width = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let height = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let intersection = width * height;
    let area = |r: &Bounds| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - intersection;
    if union <= 0.0 { 0.0 } else { intersection / union }
}

/// Keeps the best-scored of every group of candidates that overlap by more than `max_iou`
/// and that `rivals` says compete (the same class, say); best first.
pub fn suppress<T>(
    mut candidates: Vec<T>,
    score: impl Fn(&T) -> f32,
    bounds: impl Fn(&T) -> Bounds,
    rivals: impl Fn(&T, &T) -> bool,
    max_iou: f32,
) -> Vec<T> {
    candidates.sort_by(|a, b| score(b).total_cmp(&score(a)));
    let mut kept: Vec<T> = Vec::new();
    for candidate in candidates {
        let overlaps = kept.iter().any(|k| rivals(k, &candidate) && iou(&bounds(k), &bounds(&candidate)) > max_iou);
        if !overlaps {
            kept.push(candidate);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppression_keeps_the_best_of_overlapping_rivals() {
        let boxes = vec![(0, 0.5, 0.0), (0, 0.9, 1.0), (1, 0.8, 1.0), (0, 0.7, 50.0)];
        let kept = suppress(boxes, |b| b.1, |b| [b.2, 0.0, b.2 + 10.0, 10.0], |a, b| a.0 == b.0, 0.5);
        assert_eq!(kept, vec![(0, 0.9, 1.0), (1, 0.8, 1.0), (0, 0.7, 50.0)]);
        assert_eq!(iou(&[0.0, 0.0, 0.0, 0.0], &[0.0, 0.0, 0.0, 0.0]), 0.0);
    }
}
