/** Server-side message catalogue (English + Simplified Chinese), picked by the client's locale. */

const en = {
  imbalance: "Classes are imbalanced: '{0}' has {1} training samples but '{2}' has only {3} ({4}× > {5}×). Add samples to '{2}': class weighting is already on and only partly makes up for missing examples.",
  imbalanceNoWeighting: "Classes are imbalanced: '{0}' has {1} training samples but '{2}' has only {3} ({4}× > {5}×). Add samples to '{2}' or turn class weighting back on (fewshot.train.classWeighting).",
  underrepresented: "Class '{0}' has {1} training samples, far below the mean of {2} per class. Add samples to '{0}'.",
  tooFewTrain: "Class '{0}' has only {1} training samples (minimum {2}). Add at least {3} more.",
  tooFewTest: "Class '{0}' has only {1} test samples (minimum {2}), so its test score is unreliable. Add test samples or create a stratified test split.",
  missingTestFolders: "Dataset '{0}' has no test split, so scores come from a random hold-out. Add test/<class> folders or create a stratified test split.",
  missingTestTable: "Dataset '{0}' has no test split, so scores come from a random hold-out. Add a 'split' column (train/test) or a matching test file.",
  classNoTest: "Class '{0}' has no test samples, so its score cannot be measured. Add test samples for '{0}' or create a stratified test split.",
  classNoTrain: "Class '{0}' appears only in the test split, so the model can never predict it. Add training samples for '{0}' or remove it from the test split.",
  leakageExact: 'This test sample also appears in the training split ({0}). Remove it from one of the splits: leakage inflates test scores.',
  leakageNear: 'This test sample is a near-duplicate ({0}% similar) of a training sample ({1}). Remove or rewrite one of them: leakage inflates test scores.',
  duplicate: 'Duplicate of {0} in the same split (same text ignoring case and whitespace). Remove it: duplicates over-weight one example.',
  conflicting: "The same text is labelled '{0}' here and '{1}' in {2}. Keep one label and remove the other sample.",
  emptyFile: 'Empty sample: this file has no text. Add text or delete the file.',
  emptyRow: 'Empty text in this row. Fill it in or remove the row.',
  emptyLabel: 'Unlabelled text: training skips this row (no label); "Suggest What to Label Next" ranks it among the texts to label. Fill in the label when you know it.',
  emptyTable: 'This dataset file has no rows. Add rows with text and label columns.',
  binary: 'This file is not readable text (binary or undecodable bytes). Remove it from the dataset or re-save it as UTF-8 text.',
  badRow: 'Line {0} cannot be read ({1}). Fix the row or remove it.',
  unexpectedEncoding: 'This file is encoded as {0} while most of the dataset is {1}. Re-save it as {1} (Save with Encoding).',
  tooLong: 'Sample is {0} characters long; the encoder reads only the first {1} (fewshot.diagnostics.maxChars). Shorten or split it.',
  labelVariants: 'Labels {0} differ only by case, whitespace or character width, so they count as different classes. Rename them to one label.',
  columnsGuessed: "No column is named like a text or a label, so training guesses them from the content: text column '{0}', label column '{1}'. If that is wrong, rename the columns to text and label, or set fewshot.train.textColumn and fewshot.train.labelColumn.",
  linkBroken: 'This link is not followed: its target does not exist. Delete it.',
  linkOutside: 'This link is not followed: it points outside the dataset folder, to {0}. Copy the files into the dataset, or delete the link.',
  linkLoop: 'This link is not followed: it points back to {0}, a folder that contains it (a loop). Delete it.',
  linkSeen: 'This link is not followed: {0} is already read, so its examples would count twice. Delete it.',
  // code action titles
  actionSplit: 'Create a stratified test split',
  actionRemoveRow: 'Remove the duplicate row',
  actionRemoveEmptyRow: 'Remove the empty row',
  actionWeighting: 'Use class weighting for this dataset',
  actionOpen: 'Open the duplicate',
  actionOpenTrain: 'Open the training sample',
  actionSilence: 'Silence this check for this dataset ({0})',
  relatedFirst: 'first occurrence',
  relatedTrain: 'training sample',
  relatedOther: 'labelled {0} here',
};

type Key = keyof typeof en;

const zh: Record<Key, string> = {
  imbalance: "类别不平衡：'{0}' 有 {1} 个训练样本，而 '{2}' 只有 {3} 个（{4} 倍 > {5} 倍）。请为 '{2}' 补充样本：类别加权已开启，只能部分弥补样本不足。",
  imbalanceNoWeighting: "类别不平衡：'{0}' 有 {1} 个训练样本，而 '{2}' 只有 {3} 个（{4} 倍 > {5} 倍）。请为 '{2}' 补充样本，或重新开启类别加权（fewshot.train.classWeighting）。",
  underrepresented: "类别 '{0}' 只有 {1} 个训练样本，远低于每类平均 {2} 个。请为 '{0}' 补充样本。",
  tooFewTrain: "类别 '{0}' 只有 {1} 个训练样本（至少需要 {2} 个）。请至少再添加 {3} 个。",
  tooFewTest: "类别 '{0}' 只有 {1} 个测试样本（至少需要 {2} 个），其测试分数不可靠。请添加测试样本或创建分层测试集。",
  missingTestFolders: "数据集 '{0}' 没有测试集，分数将来自随机留出集。请添加 test/<类别> 文件夹，或创建分层测试集。",
  missingTestTable: "数据集 '{0}' 没有测试集，分数将来自随机留出集。请添加 'split' 列（train/test）或对应的测试文件。",
  classNoTest: "类别 '{0}' 没有测试样本，无法衡量其分数。请为 '{0}' 添加测试样本，或创建分层测试集。",
  classNoTrain: "类别 '{0}' 只出现在测试集中，模型永远无法预测它。请为 '{0}' 添加训练样本，或将其从测试集中移除。",
  leakageExact: '此测试样本也出现在训练集中（{0}）。请将其从其中一个划分中删除：数据泄漏会虚高测试分数。',
  leakageNear: '此测试样本与一个训练样本近似重复（相似度 {0}%，{1}）。请删除或改写其中之一：数据泄漏会虚高测试分数。',
  duplicate: '与同一划分中的 {0} 重复（忽略大小写和空白后文本相同）。请删除它：重复样本会使某个样例权重过高。',
  conflicting: "相同的文本在这里标注为 '{0}'，而在 {2} 中标注为 '{1}'。请保留一个标签并删除另一个样本。",
  emptyFile: '空样本：此文件没有文本。请添加文本或删除该文件。',
  emptyRow: '此行文本为空。请填写文本或删除该行。',
  emptyLabel: '未标注文本：此行没有标签，训练时跳过；“建议下一步标注”会将它与其他待标注文本一起排序。确定类别后请填写标签。',
  emptyTable: '此数据集文件没有数据行。请添加包含文本列和标签列的行。',
  binary: '此文件不是可读文本（二进制或无法解码的字节）。请将其从数据集中移除，或另存为 UTF-8 文本。',
  badRow: '第 {0} 行无法读取（{1}）。请修正或删除该行。',
  unexpectedEncoding: '此文件的编码为 {0}，而数据集的大部分文件为 {1}。请将其另存为 {1}（通过编码保存）。',
  tooLong: '样本长度为 {0} 个字符；编码器只读取前 {1} 个（fewshot.diagnostics.maxChars）。请缩短或拆分它。',
  labelVariants: '标签 {0} 仅在大小写、空白或全角/半角上不同，因此被视为不同的类别。请将它们重命名为同一个标签。',
  columnsGuessed: "没有列的名称像文本列或标签列，训练时将根据内容猜测：文本列 '{0}'，标签列 '{1}'。如有错误，请将列重命名为 text 和 label，或设置 fewshot.train.textColumn 和 fewshot.train.labelColumn。",
  linkBroken: '未跟随此链接：其目标不存在。请删除它。',
  linkOutside: '未跟随此链接：它指向数据集文件夹之外的 {0}。请将文件复制到数据集中，或删除该链接。',
  linkLoop: '未跟随此链接：它指回包含它的文件夹 {0}（循环）。请删除它。',
  linkSeen: '未跟随此链接：{0} 已被读取，其样本会被重复计算。请删除它。',
  actionSplit: '创建分层测试集',
  actionRemoveRow: '删除重复的行',
  actionRemoveEmptyRow: '删除空行',
  actionWeighting: '对此数据集使用类别加权',
  actionOpen: '打开重复项',
  actionOpenTrain: '打开训练样本',
  actionSilence: '对此数据集忽略此检查（{0}）',
  relatedFirst: '首次出现',
  relatedTrain: '训练样本',
  relatedOther: '此处标注为 {0}',
};

export type MessageKey = Key;

export function isChinese(locale: string | undefined): boolean {
  return !!locale && /^zh(-cn|-hans|-sg)?$/i.test(locale.trim()) || /^zh-hans/i.test(locale ?? '');
}

export function msg(locale: string | undefined, key: Key, ...args: Array<string | number>): string {
  const table: Record<Key, string> = isChinese(locale) ? zh : en;
  return table[key].replace(/\{(\d+)\}/g, (_, i) => String(args[Number(i)] ?? ''));
}
